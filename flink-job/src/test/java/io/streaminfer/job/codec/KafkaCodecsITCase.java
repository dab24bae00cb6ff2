package io.streaminfer.job.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.job.kafka.EmbeddedKafkaExtension;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Real broker, real Flink job: Avro prompts and garbage in; prompts and dead letters out, none lost. */
class KafkaCodecsITCase {
    @RegisterExtension
    static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension();

    @Test
    void flinkSourceSplitsGoodPromptsFromDeadLetters() throws Exception {
        String topic = "prompts-it";
        kafka.createTopic(topic, 2);
        AvroKafkaSerializationSchema<PromptRecord> prompts = AvroKafkaSerializationSchema.prompts(topic);
        byte[] garbage = "{\"id\":\"json-is-not-avro\"}".getBytes(StandardCharsets.UTF_8);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
            for (int i = 0; i < 5; i++) {
                PromptRecord p = PromptRecord.newBuilder().setId("p" + i).setPrompt("Once upon a time " + i).build();
                producer.send(prompts.serialize(p, null, null));
            }
            producer.send(new ProducerRecord<>(topic, 0, null, garbage));
            producer.send(new ProducerRecord<>(topic, 1, null, new byte[0]));
            producer.flush();
        }

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        KafkaSource<Either<DeadLetterRecord, PromptRecord>> source = KafkaSource.<Either<DeadLetterRecord, PromptRecord>>builder()
                .setBootstrapServers(kafka.bootstrapServers())
                .setTopics(topic)
                .setGroupId("codec-it")
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setBounded(OffsetsInitializer.latest())
                .setDeserializer(new PromptKafkaDeserializationSchema())
                .build();
        List<Either<DeadLetterRecord, PromptRecord>> out = new ArrayList<>();
        try (CloseableIterator<Either<DeadLetterRecord, PromptRecord>> it =
                     env.fromSource(source, WatermarkStrategy.noWatermarks(), "prompts").executeAndCollect()) {
            it.forEachRemaining(out::add);
        }

        TreeSet<String> ids = new TreeSet<>();
        List<DeadLetterRecord> dead = new ArrayList<>();
        for (Either<DeadLetterRecord, PromptRecord> e : out) {
            if (e.isRight()) {
                ids.add(e.right().getId());
            } else {
                dead.add(e.left());
            }
        }
        assertEquals(new TreeSet<>(List.of("p0", "p1", "p2", "p3", "p4")), ids);
        assertEquals(2, dead.size(), "every bad record becomes a dead letter: " + dead);
        for (DeadLetterRecord d : dead) {
            assertEquals(topic, d.getSourceTopic());
            assertTrue(d.getSourceOffset() >= 0);
        }
        assertTrue(dead.stream().anyMatch(d -> d.getOriginal().equals(ByteBuffer.wrap(garbage))
                && d.getSourcePartition() == 0), dead.toString());
        assertTrue(dead.stream().anyMatch(d -> d.getReason().startsWith("empty message")), dead.toString());
    }
}
