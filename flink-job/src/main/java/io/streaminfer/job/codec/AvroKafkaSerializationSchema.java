package io.streaminfer.job.codec;

import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes records as Avro values ({@link AvroCodec}: single-object encoding) to one topic, keyed by a field
 * (UTF-8) so that all records of one id land in one partition. Use {@link #completions} and {@link #deadLetters}.
 */
public final class AvroKafkaSerializationSchema<T extends SpecificRecord> implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    private final String topic;
    private final AvroCodec<T> codec;
    private final SerializableFunction<T, String> key;

    private AvroKafkaSerializationSchema(String topic, Class<T> type, SerializableFunction<T, String> key) {
        if (topic == null || topic.isBlank()) {
            throw new IllegalArgumentException("topic must be given for " + type.getSimpleName() + " records");
        }
        this.topic = topic;
        this.codec = new AvroCodec<>(type);
        this.key = Objects.requireNonNull(key, "key");
    }

    /** CompletionRecords keyed by id. */
    public static AvroKafkaSerializationSchema<CompletionRecord> completions(String topic) {
        return new AvroKafkaSerializationSchema<>(topic, CompletionRecord.class,
                CompletionRecord::getId);
    }

    /** DeadLetterRecords keyed by id when it is known, else without a key. */
    public static AvroKafkaSerializationSchema<DeadLetterRecord> deadLetters(String topic) {
        return new AvroKafkaSerializationSchema<>(topic, DeadLetterRecord.class,
                DeadLetterRecord::getId);
    }

    /** PromptRecords keyed by their routing key (the id when there is none), e.g. for producers and demos. */
    public static AvroKafkaSerializationSchema<PromptRecord> prompts(String topic) {
        return new AvroKafkaSerializationSchema<>(topic, PromptRecord.class,
                p -> p.getKey() != null ? p.getKey() : p.getId());
    }

    public String topic() {
        return topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
        String k = key.apply(element);
        return new ProducerRecord<>(topic, null, timestamp,
                k == null ? null : k.getBytes(StandardCharsets.UTF_8), codec.encode(element));
    }

    /** The value bytes alone, for plain producers. */
    public byte[] encodeValue(T element) {
        return codec.encode(element);
    }
}
