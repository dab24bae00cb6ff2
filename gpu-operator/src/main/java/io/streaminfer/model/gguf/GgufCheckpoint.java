package io.streaminfer.model.gguf;

import io.streaminfer.compute.StorageKind;
import io.streaminfer.compute.WeightTensor;
import io.streaminfer.model.MappedCheckpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.TextTokenizer;
import io.streaminfer.model.gguf.GgufFile.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A GGUF file as a checkpoint: its metadata as the {@link ModelConfig} (see {@link GgufConfig}), its
 * tensors memory-mapped in place under the neutral names of {@link io.streaminfer.model.TensorNames} (GGUF's
 * own, without the {@code .weight} suffix; biases keep {@code .bias}), and its vocabulary as a
 * {@link TextTokenizer}. A tensor of ne = [ne0, ne1] is (rows ne1, cols ne0). Read types: F32, F16, BF16,
 * Q8_0, Q4_0, Q4_K, Q6_K; another type, or an architecture other than llama, qwen2 and qwen3, is refused
 * by name before anything is mapped.
 */
public final class GgufCheckpoint extends MappedCheckpoint {
    /** ggml type codes of the storage kinds read, by code. */
    private static final Map<Integer, StorageKind> KINDS = Map.of(0, StorageKind.F32, 1, StorageKind.F16,
            2, StorageKind.Q4_0, 8, StorageKind.Q8_0, 12, StorageKind.Q4_K, 14, StorageKind.Q6_K, 30, StorageKind.BF16);
    /** ggml's names of the types this release does not read, for messages. */
    private static final Map<Integer, String> OTHER_TYPES = Map.ofEntries(Map.entry(3, "Q4_1"), Map.entry(6, "Q5_0"),
            Map.entry(7, "Q5_1"), Map.entry(9, "Q8_1"), Map.entry(10, "Q2_K"), Map.entry(11, "Q3_K"),
            Map.entry(13, "Q5_K"), Map.entry(15, "Q8_K"), Map.entry(16, "IQ2_XXS"), Map.entry(17, "IQ2_XS"),
            Map.entry(18, "IQ3_XXS"), Map.entry(19, "IQ1_S"), Map.entry(20, "IQ4_NL"), Map.entry(21, "IQ3_S"),
            Map.entry(22, "IQ2_S"), Map.entry(23, "IQ4_XS"), Map.entry(24, "I8"), Map.entry(25, "I16"),
            Map.entry(26, "I32"), Map.entry(27, "I64"), Map.entry(28, "F64"), Map.entry(29, "IQ1_M"),
            Map.entry(34, "TQ1_0"), Map.entry(35, "TQ2_0"), Map.entry(39, "MXFP4"));

    private final GgufFile file;
    private volatile TextTokenizer tokenizer;

    /** @param tensors by neutral name, in file order */
    private GgufCheckpoint(GgufFile file, ModelConfig config, Map<String, WeightTensor> tensors) {
        super(file.path(), config, tensors);
        this.file = file;
    }

    /** Opens and maps a GGUF file, with the context length its metadata implies (see {@link GgufConfig}). */
    public static GgufCheckpoint open(Path path) throws IOException {
        return open(path, 0);
    }

    /**
     * Opens and maps a GGUF file.
     *
     * @param contextLength positions the model may use, replacing what the file says; 0 keeps the file's
     * @throws IOException naming the file and the unsupported architecture, type or malformed entry
     */
    public static GgufCheckpoint open(Path path, int contextLength) throws IOException {
        if (contextLength < 0) {
            throw new IllegalArgumentException("contextLength must be >= 0, got " + contextLength);
        }
        GgufFile file = GgufFile.read(path);
        try {
            GgufConfig.architecture(file.metadata());
            Map<String, WeightTensor> tensors = map(file);
            return new GgufCheckpoint(file, GgufConfig.read(file.metadata(), tensors, contextLength), tensors);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new IOException(path + ": " + e.getMessage(), e);
        }
    }

    /** Checks every tensor's type and extent first, then maps each on its own. */
    private static Map<String, WeightTensor> map(GgufFile file) throws IOException {
        Path path = file.path();
        for (TensorInfo t : file.tensors()) {
            kindOf(t);
            long end = file.dataStart() + t.offset() + bytesOf(t);
            if (end > file.fileSize()) {
                throw new IOException(path + ": tensor " + t.name() + " ends at byte " + end + ", past the end of the "
                        + file.fileSize() + "-byte file");
            }
        }
        Map<String, WeightTensor> tensors = new LinkedHashMap<>();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            for (TensorInfo t : file.tensors()) {
                long bytes = bytesOf(t);
                if (bytes > Integer.MAX_VALUE) {
                    throw new IOException(path + ": tensor " + t.name() + " has " + bytes
                            + " bytes, more than one mapping can hold (2 GiB)");
                }
                ByteBuffer data = channel.map(FileChannel.MapMode.READ_ONLY, file.dataStart() + t.offset(), bytes)
                        .order(ByteOrder.LITTLE_ENDIAN);
                String name = neutralName(t.name());
                int[] shape = shapeOf(t);
                if (tensors.put(name, new WeightTensor(name, kindOf(t), shape[0], shape[1], data)) != null) {
                    throw new IOException(path + ": tensor " + t.name() + " appears twice");
                }
            }
        }
        return tensors; // the mappings stay valid after the channel is closed
    }

    /** GGUF's tensor name without its {@code .weight} suffix: {@code blk.0.attn_q.weight} is {@code blk.0.attn_q}. */
    static String neutralName(String ggufName) {
        return ggufName.endsWith(".weight") ? ggufName.substring(0, ggufName.length() - ".weight".length()) : ggufName;
    }

    private static StorageKind kindOf(TensorInfo t) {
        StorageKind kind = KINDS.get(t.type());
        if (kind == null) {
            String name = OTHER_TYPES.getOrDefault(t.type(), "type " + t.type());
            throw new IllegalArgumentException("tensor " + t.name() + " is stored as " + name
                    + ", which this release cannot read (F32, F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K can be)");
        }
        return kind;
    }

    private static long bytesOf(TensorInfo t) {
        StorageKind kind = kindOf(t);
        int[] shape = shapeOf(t);
        try {
            return Math.multiplyExact(shape[0], kind.rowBytes(shape[1]));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor " + t.name() + ": " + e.getMessage(), e);
        }
    }

    /** (rows, cols) = (ne[1], ne[0]); a vector is one row; higher dimensions must be 1. */
    private static int[] shapeOf(TensorInfo t) {
        long[] ne = t.dims();
        for (int d = 2; d < ne.length; d++) {
            if (ne[d] != 1) {
                throw new IllegalArgumentException("tensor " + t.name() + " has shape " + Arrays.toString(ne)
                        + "; only vectors and matrices are read");
            }
        }
        long rows = ne.length > 1 ? ne[1] : 1;
        if (rows > Integer.MAX_VALUE || ne[0] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + t.name() + " is too large: " + Arrays.toString(ne));
        }
        return new int[] {(int) rows, (int) ne[0]};
    }

    /** The file's metadata (tokenizer, chat template, provenance). */
    public GgufMetadata metadata() {
        return file.metadata();
    }

    /**
     * The file's vocabulary as a tokenizer, built on first use (see {@link GgufVocabulary}).
     *
     * @throws UnsupportedOperationException for a vocabulary this release cannot tokenize (gpt2's byte-level BPE)
     */
    public TextTokenizer tokenizer() {
        TextTokenizer t = tokenizer;
        if (t == null) {
            try {
                t = GgufVocabulary.tokenizer(file.metadata(), config().vocabularySize());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file.path() + ": " + e.getMessage(), e);
            } catch (UnsupportedOperationException e) {
                throw new UnsupportedOperationException(file.path() + ": " + e.getMessage(), e);
            }
            tokenizer = t;
        }
        return t;
    }
}
