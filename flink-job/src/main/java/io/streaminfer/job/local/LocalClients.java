package io.streaminfer.job.local;

import java.util.Properties;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Byte-array Kafka clients for the local runs (demo, job benchmark) that feed and read the job. */
final class LocalClients {
    private LocalClients() {}

    static KafkaProducer<byte[], byte[]> producer(String servers) {
        Properties props = new Properties();
        props.put("bootstrap.servers", servers);
        props.put("key.serializer", ByteArraySerializer.class.getName());
        props.put("value.serializer", ByteArraySerializer.class.getName());
        return new KafkaProducer<>(props);
    }

    /** Sees only committed transactions: what the job has delivered exactly once. */
    static KafkaConsumer<byte[], byte[]> readCommitted(String servers, String group) {
        Properties props = new Properties();
        props.put("bootstrap.servers", servers);
        props.put("group.id", group);
        props.put("isolation.level", "read_committed");
        props.put("auto.offset.reset", "earliest");
        props.put("key.deserializer", ByteArrayDeserializer.class.getName());
        props.put("value.deserializer", ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(props);
    }
}
