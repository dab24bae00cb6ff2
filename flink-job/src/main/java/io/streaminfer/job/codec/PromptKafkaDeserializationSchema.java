package io.streaminfer.job.codec;

import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.time.Clock;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Kafka value (a PromptRecord of any release, see {@link AvroCodec}) to {@code Either.Right(prompt)}, or
 * {@code Either.Left(deadLetter)} naming the reason, the original bytes and topic/partition/offset (text
 * that is not UTF-8 is such a reason, not replaced by U+FFFD). Never throws on bad bytes, so one
 * bad record cannot stop the job; every Kafka record yields exactly one element.
 */
public final class PromptKafkaDeserializationSchema
        implements KafkaRecordDeserializationSchema<Either<DeadLetterRecord, PromptRecord>> {
    private static final long serialVersionUID = 1L;

    private final AvroCodec<PromptRecord> codec = new AvroCodec<>(PromptRecord.class);
    private final Clock clock;

    public PromptKafkaDeserializationSchema() {
        this(Clock.systemUTC());
    }

    /** @param clock stamps dead letters; must be serializable (the system clocks are) */
    public PromptKafkaDeserializationSchema(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Either<DeadLetterRecord, PromptRecord>> out) {
        out.collect(decode(record));
    }

    /**
     * The decision for one Kafka record; public so that tests and other sources can share it. A decoded
     * prompt carries its {@link RecordOrigin} (topic, partition, offset, value) in its metadata.
     */
    public Either<DeadLetterRecord, PromptRecord> decode(ConsumerRecord<byte[], byte[]> record) {
        byte[] value = record.value();
        RecordOrigin origin = RecordOrigin.ofKafka(record.topic(), record.partition(), record.offset(), value);
        PromptRecord prompt;
        try {
            prompt = codec.decode(value);
        } catch (InvalidRecordException e) {
            String reason = value == null ? "empty message (null value, e.g. a tombstone): no PromptRecord"
                    : value.length == 0 ? e.getMessage() : AvroInputChecks.undecodable(value, e);
            return Either.Left(origin.deadLetter(null, reason, clock.instant()));
        }
        String replaced = AvroInputChecks.replacedText(prompt, value);
        if (replaced != null) {
            return Either.Left(origin.deadLetter(null, "field \"" + replaced + "\" is not valid UTF-8 (Avro strings"
                    + " must be UTF-8; the undecodable bytes are in the original)", clock.instant()));
        }
        String reserved = JobMetadata.reservedKeyReason(prompt.getMetadata());
        if (reserved != null) {
            return Either.Left(origin.deadLetter(prompt.getId(), reserved, clock.instant()));
        }
        return Either.Right(origin.attachTo(prompt));
    }

    @Override
    public TypeInformation<Either<DeadLetterRecord, PromptRecord>> getProducedType() {
        return RecordTypes.promptOrDeadLetter();
    }
}
