package io.streaminfer.job.codec;

import io.streaminfer.schemas.DeadLetterRecord;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * Builds dead letters: the reason, the original bytes and where they came from. Inputs with a
 * {@link RecordOrigin} build theirs with {@link RecordOrigin#deadLetter}; these are the shorthands.
 */
public final class DeadLetters {
    private DeadLetters() {}

    /** A Kafka record that could not become a request. */
    public static DeadLetterRecord fromKafka(String id, String reason, byte[] original, String topic, int partition,
                                             long offset, Instant now) {
        return RecordOrigin.ofKafka(topic, partition, offset, original).deadLetter(id, reason, now);
    }

    /** A line of a file that could not become a request; {@code line} is 1-based. */
    public static DeadLetterRecord fromFile(String id, String reason, byte[] original, String file, long line,
                                            Instant now) {
        return RecordOrigin.ofFile(file, line, original).deadLetter(id, reason, now);
    }

    /**
     * A record without an origin (one that did not come through this job's sources) that failed after
     * decoding: {@code original} is the record re-encoded, and no source position is known.
     */
    public static DeadLetterRecord invalid(String id, String reason, byte[] original, Instant now) {
        return DeadLetterRecord.newBuilder()
                .setId(id)
                .setReason(reason)
                .setOriginal(original == null ? null : ByteBuffer.wrap(original.clone()))
                .setTimestamp(now)
                .build();
    }
}
