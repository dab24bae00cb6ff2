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
 * The hand-written binary layout of the operator's element types, shared by the stream serializers
 * ({@link InferenceTypes}) and the checkpointed in-flight entries ({@link InFlightEntry}). Strings are UTF-8
 * with an int length (-1 for null), arrays an int length (-1 for null), maps an int count then pairs.
 *
 * <h2>Layouts</h2>
 * <ul>
 *   <li>{@value #LAYOUT_1}: the first release's. Fields only; which layout it is comes from outside (the
 *       serializer snapshot; the in-flight entry's format 1).</li>
 *   <li>{@value #LAYOUT_2}: every element (an input, an output, a progress, a result stored on its own)
 *       begins with its layout as one unsigned byte, then the same fields as layout 1. Elements describe
 *       themselves from here on, so a release reads elements of every layout from 2 to its own without
 *       being told which.</li>
 * </ul>
 * Readers take the layout the element was written in; writers take the layout to write, because a
 * serializer restored from an old snapshot writes its own layout again (Flink writes restored state that
 * the new job never asks for with the serializer that read it).
 *
 * <h2>Changing the layout</h2>
 * <ol>
 *   <li>First write the savepoint fixtures of the current layout with the code before the change
 *       ({@code SavepointFixtureWriter} in the tests; see {@code src/test/resources/savepoints/README.md}).</li>
 *   <li>Add {@code LAYOUT_3}, make it {@link #CURRENT_LAYOUT}, and in the body readers and writers read and
 *       write the new field only when {@code layout >= LAYOUT_3}, with the value older layouts mean
 *       otherwise. For example the per-request sample count {@code n} (an int after {@code logprobs},
 *       1 before layout 3) and chat {@code messages} (after {@code target}: a count, -1 for none, then
 *       role and content strings). Writing an older layout drops such a field, and must refuse a value the
 *       older layout cannot say (n != 1).</li>
 *   <li>The serializer snapshots record the layout, so they need no change: a savepoint of an older layout
 *       restores as compatible after migration, and is rewritten in the new one.</li>
 *   <li>A test that restores the fixture of step 1.</li>
 * </ol>
 */
final class InferenceCodec {

    /** The first release's layout: no version byte in the elements. */
    static final int LAYOUT_1 = 1;
    /** Each element begins with its layout byte. */
    static final int LAYOUT_2 = 2;
    /** Requests carry their target's token ids. */
    static final int LAYOUT_3 = 3;
    /** The layout this release writes. */
    static final int CURRENT_LAYOUT = LAYOUT_3;

    private InferenceCodec() {
    }

    /** Checks that this release reads {@code layout}; the message names what was found and what is read. */
    static int checkLayout(int layout, String what) throws IOException {
        if (layout < LAYOUT_1 || layout > CURRENT_LAYOUT) {
            throw new IOException(what + " has layout " + layout + "; this release reads layouts " + LAYOUT_1
                    + " to " + CURRENT_LAYOUT + (layout > CURRENT_LAYOUT ? " (written by a newer release?)" : ""));
        }
        return layout;
    }

    /** Begins an element of {@code layout}: nothing in layout 1, the layout byte from layout 2. */
    private static void writeLayout(DataOutput out, int layout) throws IOException {
        if (layout >= LAYOUT_2) {
            out.writeByte(layout);
        }
    }

    /**
     * Reads the layout of an element from a source of layout {@code sourceLayout}: 1 has no layout byte;
     * from 2 on, the element's own byte says which (any of 2 to {@link #CURRENT_LAYOUT}).
     */
    private static int readLayout(DataInput in, int sourceLayout, String what) throws IOException {
        if (sourceLayout == LAYOUT_1) {
            return LAYOUT_1;
        }
        int layout = in.readUnsignedByte();
        if (layout < LAYOUT_2 || layout > CURRENT_LAYOUT) {
            throw new IOException(what + " element has layout " + layout + "; this release reads layouts " + LAYOUT_1
                    + " to " + CURRENT_LAYOUT + (layout > CURRENT_LAYOUT ? " (written by a newer release?)"
                    : " (from layout " + LAYOUT_2 + " on, an element begins with its layout: corrupt data?)"));
        }
        return layout;
    }

    static void writeInput(DataOutput out, InferenceInput input, int layout) throws IOException {
        writeLayout(out, layout);
        writeRequest(out, input.request(), layout);
        writeString(out, input.key());
        writeMetadata(out, input.metadata());
    }

    static InferenceInput readInput(DataInput in, int sourceLayout) throws IOException {
        int layout = readLayout(in, sourceLayout, "input");
        GenerationRequest request = readRequest(in, layout);
        String key = readString(in);
        return new InferenceInput(request, key, readMetadata(in));
    }

    static void writeOutput(DataOutput out, InferenceOutput output, int layout) throws IOException {
        writeLayout(out, layout);
        writeString(out, output.key());
        writeMetadata(out, output.metadata());
        writeResultFields(out, output.result(), layout);
        out.writeInt(output.replicaIndex());
        out.writeInt(output.tensorParallelSize());
        writeString(out, output.modelName());
    }

    static InferenceOutput readOutput(DataInput in, int sourceLayout) throws IOException {
        int layout = readLayout(in, sourceLayout, "output");
        String key = readString(in);
        Map<String, String> metadata = readMetadata(in);
        GenerationResult result = readResultFields(in, layout);
        int replica = in.readInt();
        int tp = in.readInt();
        return new InferenceOutput(key, metadata, result, replica, tp, readString(in));
    }

    /** A result on its own (an in-flight entry's finished request). */
    static void writeResult(DataOutput out, GenerationResult result, int layout) throws IOException {
        writeLayout(out, layout);
        writeResultFields(out, result, layout);
    }

    static GenerationResult readResult(DataInput in, int sourceLayout) throws IOException {
        return readResultFields(in, readLayout(in, sourceLayout, "result"));
    }

    static void writeProgress(DataOutput out, RequestProgress p, int layout) throws IOException {
        writeLayout(out, layout);
        writeInts(out, p.generatedTokens());
        out.writeLong(p.rngState());
    }

    static RequestProgress readProgress(DataInput in, int sourceLayout) throws IOException {
        readLayout(in, sourceLayout, "progress");
        int[] tokens = readInts(in);
        if (tokens == null) {
            throw new IOException("corrupt progress: null token list");
        }
        return new RequestProgress(tokens, in.readLong());
    }

    // ---- element bodies: fields in order; each takes the layout, for the fields of later layouts ----

    private static void writeRequest(DataOutput out, GenerationRequest r, int layout) throws IOException {
        writeString(out, r.id());
        writeString(out, r.prompt());
        writeInts(out, r.promptTokenIds());
        writeString(out, r.target());
        if (layout >= LAYOUT_3) {
            writeInts(out, r.targetTokenIds());
        }
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

    private static GenerationRequest readRequest(DataInput in, int layout) throws IOException {
        String id = readString(in);
        String prompt = readString(in);
        int[] tokens = readInts(in);
        String target = readString(in);
        int[] targetTokens = layout >= LAYOUT_3 ? readInts(in) : null;
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
                new SamplingParams(temperature, topP, topK, maxTokens, seed, stop, logprobs), targetTokens);
    }

    private static void writeResultFields(DataOutput out, GenerationResult r, int layout) throws IOException {
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

    private static GenerationResult readResultFields(DataInput in, int layout) throws IOException {
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
