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
 * <p>Bytes: {@code version:byte(1) kind:byte input [progress | result]}, where kind is 0 (running,
 * no progress: restart from the prompt), 1 (running, with progress) or 2 (finished).
 */
record InFlightEntry(InferenceInput input, RequestProgress progress, GenerationResult finished) {

    static final byte FORMAT_VERSION = 1;
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
        DataOutputSerializer out = new DataOutputSerializer(256);
        out.writeByte(FORMAT_VERSION);
        out.writeByte(finished != null ? KIND_FINISHED : progress != null ? KIND_WITH_PROGRESS : KIND_FROM_START);
        InferenceCodec.writeInput(out, input);
        if (progress != null) {
            InferenceCodec.writeProgress(out, progress);
        } else if (finished != null) {
            InferenceCodec.writeResult(out, finished);
        }
        return out.getCopyOfBuffer();
    }

    static InFlightEntry decode(byte[] bytes) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(bytes);
        int version = in.readByte();
        if (version != FORMAT_VERSION) {
            throw new IOException("in-flight state entry has format version " + version + ", this operator reads "
                    + FORMAT_VERSION);
        }
        int kind = in.readByte();
        InferenceInput input = InferenceCodec.readInput(in);
        return switch (kind) {
            case KIND_FROM_START -> running(input, null);
            case KIND_WITH_PROGRESS -> running(input, InferenceCodec.readProgress(in));
            case KIND_FINISHED -> finished(input, InferenceCodec.readResult(in));
            default -> throw new IOException("in-flight state entry of request " + input.id() + " has unknown kind " + kind);
        };
    }
}
