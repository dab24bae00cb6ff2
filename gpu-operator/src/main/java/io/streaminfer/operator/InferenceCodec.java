package io.streaminfer.operator;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.RequestProgress;
import io.streaminfer.engine.SamplingParams;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The hand-written binary layout of the operator's element types, shared by the stream serializers and
 * the checkpointed state. Field order is the layout; a change needs a new format version (the callers
 * write the version: {@link InferenceTypes} through its serializer snapshots, {@link InFlightEntry} as
 * a leading byte). Strings are UTF-8 with an int length (-1 for null), arrays an int length (-1 for null).
 */
final class InferenceCodec {

    private InferenceCodec() {
    }

    static void writeInput(DataOutput out, InferenceInput input) throws IOException {
        writeRequest(out, input.request());
        writeString(out, input.key());
        writeMetadata(out, input.metadata());
    }

    static InferenceInput readInput(DataInput in) throws IOException {
        GenerationRequest request = readRequest(in);
        String key = readString(in);
        return new InferenceInput(request, key, readMetadata(in));
    }

    static void writeOutput(DataOutput out, InferenceOutput output) throws IOException {
        writeString(out, output.key());
        writeMetadata(out, output.metadata());
        writeResult(out, output.result());
        out.writeInt(output.replicaIndex());
        out.writeInt(output.tensorParallelSize());
        writeString(out, output.modelName());
    }

    static InferenceOutput readOutput(DataInput in) throws IOException {
        String key = readString(in);
        Map<String, String> metadata = readMetadata(in);
        GenerationResult result = readResult(in);
        int replica = in.readInt();
        int tp = in.readInt();
        return new InferenceOutput(key, metadata, result, replica, tp, readString(in));
    }

    static void writeRequest(DataOutput out, GenerationRequest r) throws IOException {
        writeString(out, r.id());
        writeString(out, r.prompt());
        writeInts(out, r.promptTokenIds());
        writeString(out, r.target());
        SamplingParams p = r.params();
        out.writeFloat(p.temperature());
        out.writeFloat(p.topP());
        out.writeInt(p.topK());
        out.writeInt(p.maxTokens());
        out.writeLong(p.seed());
        out.writeInt(p.stop().size());
        for (String s : p.stop()) {
            writeString(out, s);
        }
        out.writeBoolean(p.logprobs());
    }

    static GenerationRequest readRequest(DataInput in) throws IOException {
        String id = readString(in);
        String prompt = readString(in);
        int[] tokens = readInts(in);
        String target = readString(in);
        float temperature = in.readFloat();
        float topP = in.readFloat();
        int topK = in.readInt();
        int maxTokens = in.readInt();
        long seed = in.readLong();
        int stops = checkedLength(in.readInt(), "stop list");
        List<String> stop = new ArrayList<>(stops);
        for (int i = 0; i < stops; i++) {
            stop.add(readString(in));
        }
        boolean logprobs = in.readBoolean();
        return new GenerationRequest(id, prompt, tokens, target,
                new SamplingParams(temperature, topP, topK, maxTokens, seed, stop, logprobs));
    }

    static void writeResult(DataOutput out, GenerationResult r) throws IOException {
        writeString(out, r.id());
        out.writeBoolean(r.ok());
        out.writeByte(r.finishReason().ordinal());
        writeString(out, r.error());
        writeString(out, r.text());
        writeInts(out, r.promptTokenIds());
        writeInts(out, r.tokenIds());
        float[] logprobs = r.logprobs();
        out.writeInt(logprobs == null ? -1 : logprobs.length);
        if (logprobs != null) {
            for (float v : logprobs) {
                out.writeFloat(v);
            }
        }
        out.writeBoolean(r.score() != null);
        if (r.score() != null) {
            out.writeDouble(r.score());
        }
        out.writeLong(r.queuedMs());
        out.writeLong(r.firstTokenMs());
        out.writeLong(r.totalMs());
    }

    static GenerationResult readResult(DataInput in) throws IOException {
        String id = readString(in);
        boolean ok = in.readBoolean();
        int reason = in.readByte();
        GenerationResult.FinishReason[] reasons = GenerationResult.FinishReason.values();
        if (reason < 0 || reason >= reasons.length) {
            throw new IOException("corrupt result of request " + id + ": unknown finish reason " + reason);
        }
        String error = readString(in);
        String text = readString(in);
        int[] promptTokens = readInts(in);
        int[] tokens = readInts(in);
        int n = in.readInt();
        float[] logprobs = null;
        if (n >= 0) {
            logprobs = new float[checkedLength(n, "logprobs")];
            for (int i = 0; i < n; i++) {
                logprobs[i] = in.readFloat();
            }
        }
        Double score = in.readBoolean() ? in.readDouble() : null;
        long queuedMs = in.readLong();
        long firstTokenMs = in.readLong();
        long totalMs = in.readLong();
        return new GenerationResult(id, ok, reasons[reason], error, text, promptTokens, tokens, logprobs, score,
                queuedMs, firstTokenMs, totalMs);
    }

    static void writeProgress(DataOutput out, RequestProgress p) throws IOException {
        writeInts(out, p.generatedTokens());
        out.writeLong(p.rngState());
    }

    static RequestProgress readProgress(DataInput in) throws IOException {
        int[] tokens = readInts(in);
        if (tokens == null) {
            throw new IOException("corrupt progress: null token list");
        }
        return new RequestProgress(tokens, in.readLong());
    }

    static void writeString(DataOutput out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    static String readString(DataInput in) throws IOException {
        int n = in.readInt();
        if (n == -1) {
            return null;
        }
        byte[] bytes = new byte[checkedLength(n, "string")];
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void writeInts(DataOutput out, int[] values) throws IOException {
        out.writeInt(values == null ? -1 : values.length);
        if (values != null) {
            for (int v : values) {
                out.writeInt(v);
            }
        }
    }

    private static int[] readInts(DataInput in) throws IOException {
        int n = in.readInt();
        if (n == -1) {
            return null;
        }
        int[] values = new int[checkedLength(n, "int array")];
        for (int i = 0; i < n; i++) {
            values[i] = in.readInt();
        }
        return values;
    }

    private static void writeMetadata(DataOutput out, Map<String, String> metadata) throws IOException {
        out.writeInt(metadata.size());
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            writeString(out, e.getKey());
            writeString(out, e.getValue());
        }
    }

    private static Map<String, String> readMetadata(DataInput in) throws IOException {
        int n = checkedLength(in.readInt(), "metadata");
        Map<String, String> metadata = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            metadata.put(readString(in), readString(in));
        }
        return metadata;
    }

    private static int checkedLength(int n, String what) throws IOException {
        if (n < 0) {
            throw new IOException("corrupt " + what + ": negative length " + n);
        }
        return n;
    }
}
