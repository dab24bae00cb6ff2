package io.streaminfer.model;

import io.streaminfer.compute.StorageKind;
import io.streaminfer.compute.WeightTensor;
import io.streaminfer.model.Llama2cLayout.Section;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A checkpoint in llama2.c's format, memory-mapped read-only: nothing is copied onto the heap. Each tensor
 * is mapped on its own, so files larger than 2 GiB work as long as no single tensor is.
 *
 * <p>The file's size must be exactly what its header implies; a truncated or padded file is refused.
 */
public final class Llama2cCheckpoint extends MappedCheckpoint {

    /** @param tensors one fp32 tensor per section and layer, by neutral name, in file order */
    private Llama2cCheckpoint(Path file, ModelConfig config, Map<String, WeightTensor> tensors) {
        super(file, config, tensors);
    }

    /** Opens and maps a llama2.c checkpoint, checking its header and size. */
    public static Llama2cCheckpoint open(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long actualBytes = channel.size();
            ModelConfig config = readHeader(file, channel, actualBytes);
            Llama2cLayout layout = new Llama2cLayout(config);
            checkSize(file, layout, actualBytes);
            Map<String, WeightTensor> tensors = new LinkedHashMap<>();
            for (Section section : Section.values()) {
                if (section == Section.FREQ_CIS || layout.tensorFloats(section) == 0) {
                    continue; // legacy rotary table is recomputed by the model; a tied classifier has no bytes
                }
                int count = section.perLayer ? config.numberOfLayers() : 1;
                int[] shape = shapeOf(section, config);
                for (int layer = 0; layer < count; layer++) {
                    ByteBuffer bytes = map(file, channel, section, layout.tensorOffset(section, layer),
                            layout.tensorFloats(section));
                    String name = nameOf(section, layer);
                    tensors.put(name, new WeightTensor(name, StorageKind.F32, shape[0], shape[1], bytes));
                }
            }
            // The mappings stay valid after the channel is closed.
            return new Llama2cCheckpoint(file, config, tensors);
        }
    }

    private static ModelConfig readHeader(Path file, FileChannel channel, long actualBytes) throws IOException {
        if (actualBytes < Llama2cLayout.HEADER_BYTES) {
            throw new IOException(file + ": not a llama2.c checkpoint: the header needs "
                    + Llama2cLayout.HEADER_BYTES + " bytes but the file has " + actualBytes + " bytes");
        }
        ByteBuffer header = ByteBuffer.allocate(Llama2cLayout.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        while (header.hasRemaining()) {
            if (channel.read(header, header.position()) < 0) {
                throw new IOException(file + ": unexpected end of file in the header");
            }
        }
        header.flip();
        int dim = header.getInt();
        int hiddenDim = header.getInt();
        int layers = header.getInt();
        int heads = header.getInt();
        int kvHeads = header.getInt();
        int vocab = header.getInt();
        int seqLen = header.getInt();
        String fields = "dim=" + dim + ", hidden_dim=" + hiddenDim + ", n_layers=" + layers + ", n_heads=" + heads
                + ", n_kv_heads=" + kvHeads + ", vocab_size=" + vocab + ", seq_len=" + seqLen;
        if (vocab == 0 || vocab == Integer.MIN_VALUE) {
            throw new IOException(file + ": not a llama2.c checkpoint: vocab_size " + vocab + " is invalid ("
                    + fields + ")");
        }
        try {
            // A negative vocab_size is llama2.c's flag for a separate (unshared) classifier.
            return ModelConfig.llama2c(dim, hiddenDim, layers, heads, kvHeads, Math.abs(vocab), seqLen, vocab > 0);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": not a llama2.c checkpoint: " + e.getMessage() + " (" + fields + ")", e);
        }
    }

    private static void checkSize(Path file, Llama2cLayout layout, long actualBytes) throws IOException {
        long expectedBytes = layout.totalBytes();
        if (actualBytes == expectedBytes) {
            return;
        }
        ModelConfig config = layout.config();
        StringBuilder message = new StringBuilder()
                .append(file).append(": expected ").append(expectedBytes).append(" bytes but the file has ")
                .append(actualBytes).append(" bytes (")
                .append(actualBytes < expectedBytes ? "truncated" : "longer than the header implies")
                .append("; header vocab_size=").append(layout.headerVocabularySize()).append(" means ")
                .append(config.tiedEmbeddings() ? "a shared classifier" : "a separate classifier").append(')');
        ModelConfig flipped = ModelConfig.llama2c(config.dim(), config.hiddenDim(), config.numberOfLayers(),
                config.numberOfHeads(), config.numberOfKeyValueHeads(), config.vocabularySize(),
                config.contextLength(), !config.tiedEmbeddings());
        if (new Llama2cLayout(flipped).totalBytes() == actualBytes) {
            message.append("; the size fits a checkpoint with ")
                    .append(flipped.tiedEmbeddings() ? "a shared" : "a separate")
                    .append(" classifier: is the sign of vocab_size wrong?");
        }
        throw new IOException(message.toString());
    }

    private static ByteBuffer map(Path file, FileChannel channel, Section section, long offset, long floats)
            throws IOException {
        long bytes = floats * Float.BYTES;
        if (bytes > Integer.MAX_VALUE) {
            throw new IOException(file + ": tensor " + section + " has " + bytes
                    + " bytes, more than one mapping can hold (2 GiB)");
        }
        return channel.map(FileChannel.MapMode.READ_ONLY, offset, bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    public Path file() {
        return path();
    }

    /** The neutral name and (rows, cols) shape of one llama2.c section's tensor. */
    private static String nameOf(Section section, int layer) {
        return switch (section) {
            case EMBEDDING -> TensorNames.TOKEN_EMBEDDING;
            case ATTENTION_NORM -> TensorNames.attentionNorm(layer);
            case WQ -> TensorNames.query(layer);
            case WK -> TensorNames.key(layer);
            case WV -> TensorNames.value(layer);
            case WO -> TensorNames.attentionOutput(layer);
            case FFN_NORM -> TensorNames.ffnNorm(layer);
            case W1 -> TensorNames.ffnGate(layer);
            case W2 -> TensorNames.ffnDown(layer);
            case W3 -> TensorNames.ffnUp(layer);
            case FINAL_NORM -> TensorNames.OUTPUT_NORM;
            case CLASSIFIER -> TensorNames.OUTPUT;
            case FREQ_CIS -> throw new IllegalArgumentException("freq_cis is not a model tensor");
        };
    }

    private static int[] shapeOf(Section section, ModelConfig c) {
        return switch (section) {
            case EMBEDDING, CLASSIFIER -> new int[] {c.vocabularySize(), c.dim()};
            case ATTENTION_NORM, FFN_NORM, FINAL_NORM -> new int[] {1, c.dim()};
            case WQ, WO -> new int[] {c.dim(), c.dim()};
            case WK, WV -> new int[] {c.kvDim(), c.dim()};
            case W1, W3 -> new int[] {c.hiddenDim(), c.dim()};
            case W2 -> new int[] {c.dim(), c.hiddenDim()};
            case FREQ_CIS -> throw new IllegalArgumentException("freq_cis is not a model tensor");
        };
    }
}
