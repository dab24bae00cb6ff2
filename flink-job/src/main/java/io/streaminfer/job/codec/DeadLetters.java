package io.streaminfer.job.codec;

import io.streaminfer.schemas.DeadLetterRecord;
import java.nio.ByteBuffer;
import java.time.Instant;

/** Builds dead letters: the reason, the original bytes and where they came from. */
public final class DeadLetters {
    private DeadLetters() {}

    /** A Kafka record that could not become a request. */
    public static DeadLetterRecord fromKafka(String id, String reason, byte[] original, String topic, int partition,
                                             long offset, Instant now) {
        return base(id, reason, original, now).setSourceTopic(topic).setSourcePartition(partition)
                .setSourceOffset(offset).build();
    }

    /** A line of a file that could not become a request; {@code line} is 1-based, or -1 if unknown. */
    public static DeadLetterRecord fromFile(String id, String reason, byte[] original, String file, long line,
                                            Instant now) {
        DeadLetterRecord.Builder b = base(id, reason, original, now).setSourceFile(file);
        if (line > 0) {
            b.setSourceLine(line);
        }
        return b.build();
    }

    /** A record that decoded but failed validation; no source position is known at that stage. */
    public static DeadLetterRecord invalid(String id, String reason, byte[] original, Instant now) {
        return base(id, reason, original, now).build();
    }

    private static DeadLetterRecord.Builder base(String id, String reason, byte[] original, Instant now) {
        return DeadLetterRecord.newBuilder()
                .setId(id)
                .setReason(reason)
                .setOriginal(original == null ? null : ByteBuffer.wrap(original.clone()))
                .setTimestamp(now);
    }
}
