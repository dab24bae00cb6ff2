package io.streaminfer.operator;

import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.RequestProgress;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.util.Objects;

/**
 * One entry of the operator's checkpointed list state: an admitted request that was not emitted when
 * the checkpoint was taken, with either how far it got or, when the replica had already finished it
 * but its result mail had not run yet, the finished result.
 *
 * <p>Bytes: {@code format:byte kind:byte input [progress | result]}, where kind is 0 (running, no
 * progress: restart from the prompt), 1 (running, with progress) or 2 (finished). The format says how
 * the rest is written:
 * <ul>
 *   <li>1 (the first release): the elements in {@link InferenceCodec} layout 1 (no layout bytes);</li>
 *   <li>2: each element begins with its own layout byte ({@link InferenceCodec} layout 2 or later), so a
 *       new codec layout needs no new entry format; only a change of the entry itself (a new kind) does.</li>
 * </ul>
 * Entries are byte arrays in a {@code ListState<byte[]>}, so Flink's serializer snapshot there is that of
 * byte arrays and says nothing about them: this format byte is what tells the formats apart. A new format
 * needs a savepoint fixture of the one it replaces (see {@code src/test/resources/savepoints}).
 */
record InFlightEntry(InferenceInput input, RequestProgress progress, GenerationResult finished) {

    /** The first release's format: elements in codec layout 1. */
    static final int FORMAT_1 = 1;
    /** Elements that carry their codec layout. */
    static final int FORMAT_2 = 2;
    /** The format this release writes. */
    static final int CURRENT_FORMAT = FORMAT_2;
    private static final byte KIND_FROM_START = 0;
    private static final byte KIND_WITH_PROGRESS = 1;
    private static final byte KIND_FINISHED = 2;

    InFlightEntry {
        Objects.requireNonNull(input, "input");
        if (progress != null && finished != null) {
            throw new IllegalArgumentException("request " + input.id() + ": an entry holds progress or a result, not both");
        }
    }

    static InFlightEntry running(InferenceInput input, RequestProgress progress) {
        return new InFlightEntry(input, progress, null);
    }

    static InFlightEntry finished(InferenceInput input, GenerationResult result) {
        return new InFlightEntry(input, null, Objects.requireNonNull(result, "result"));
    }

    boolean isFinished() {
        return finished != null;
    }

    byte[] encode() throws IOException {
        return encode(CURRENT_FORMAT);
    }

    /**
     * The entry in {@code format}: format 1 with its elements in codec layout 1, format 2 with the current
     * layout. Only tests write format 1, to check that this release reads what the first one wrote.
     */
    byte[] encode(int format) throws IOException {
        int layout = sourceLayoutOf(format) == InferenceCodec.LAYOUT_1 ? InferenceCodec.LAYOUT_1
                : InferenceCodec.CURRENT_LAYOUT;
        DataOutputSerializer out = new DataOutputSerializer(256);
        out.writeByte(format);
        out.writeByte(finished != null ? KIND_FINISHED : progress != null ? KIND_WITH_PROGRESS : KIND_FROM_START);
        InferenceCodec.writeInput(out, input, layout);
        if (progress != null) {
            InferenceCodec.writeProgress(out, progress, layout);
        } else if (finished != null) {
            InferenceCodec.writeResult(out, finished, layout);
        }
        return out.getCopyOfBuffer();
    }

    static InFlightEntry decode(byte[] bytes) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(bytes);
        int layout = sourceLayoutOf(in.readUnsignedByte());
        int kind = in.readByte();
        InferenceInput input = InferenceCodec.readInput(in, layout);
        InFlightEntry entry = switch (kind) {
            case KIND_FROM_START -> running(input, null);
            case KIND_WITH_PROGRESS -> running(input, InferenceCodec.readProgress(in, layout));
            case KIND_FINISHED -> finished(input, InferenceCodec.readResult(in, layout));
            default -> throw new IOException("in-flight state entry of request " + input.id() + " has unknown kind " + kind);
        };
        if (in.available() > 0) {
            throw new IOException("in-flight state entry of request " + input.id() + " has " + in.available()
                    + " bytes after its end (corrupt, or a format this release misreads)");
        }
        return entry;
    }

    /**
     * What the codec is told about the elements of an entry of {@code format}: layout 1, or from format 2
     * the lowest layout they may have (each says its own).
     */
    private static int sourceLayoutOf(int format) throws IOException {
        return switch (format) {
            case FORMAT_1 -> InferenceCodec.LAYOUT_1;
            case FORMAT_2 -> InferenceCodec.LAYOUT_2;
            default -> throw new IOException("in-flight state entry has format version " + format
                    + "; this release reads format versions " + FORMAT_1 + " to " + CURRENT_FORMAT
                    + (format > CURRENT_FORMAT ? " (written by a newer release?)" : " (corrupt?)"));
        };
    }
}
