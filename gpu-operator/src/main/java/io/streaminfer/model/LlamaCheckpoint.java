package io.streaminfer.model;

import io.streaminfer.model.Llama2cLayout.Section;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumMap;
import java.util.Map;

/**
 * A checkpoint in llama2.c's format, memory-mapped read-only: nothing is copied onto the heap. Each tensor
 * is mapped on its own, so files larger than 2 GiB work as long as no single tensor is.
 *
 * <p>The file's size must be exactly what its header implies; a truncated or padded file is refused.
 */
public final class LlamaCheckpoint implements Checkpoint {

    private final Path file;
    private final ModelConfig config;
    /** Read-only little-endian views, one per tensor, never moved (callers get duplicates). Null once closed. */
    private volatile Map<Section, FloatBuffer[]> tensors;

    private LlamaCheckpoint(Path file, ModelConfig config, Map<Section, FloatBuffer[]> tensors) {
        this.file = file;
        this.config = config;
        this.tensors = tensors;
    }

    /** Opens and maps a llama2.c checkpoint, checking its header and size. */
    public static LlamaCheckpoint open(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long actualBytes = channel.size();
            ModelConfig config = readHeader(file, channel, actualBytes);
            Llama2cLayout layout = new Llama2cLayout(config);
            checkSize(file, layout, actualBytes);
            Map<Section, FloatBuffer[]> tensors = new EnumMap<>(Section.class);
            for (Section section : Section.values()) {
                if (section == Section.FREQ_CIS || layout.tensorFloats(section) == 0) {
                    continue; // legacy rotary table is recomputed by the model; shared classifier has no bytes
                }
                int count = section.perLayer ? config.numberOfLayers() : 1;
                FloatBuffer[] views = new FloatBuffer[count];
                for (int layer = 0; layer < count; layer++) {
                    views[layer] = map(file, channel, section, layout.tensorOffset(section, layer),
                            layout.tensorFloats(section));
                }
                tensors.put(section, views);
            }
            // The mappings stay valid after the channel is closed.
            return new LlamaCheckpoint(file, config, tensors);
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

    private static FloatBuffer map(Path file, FileChannel channel, Section section, long offset, long floats)
            throws IOException {
        long bytes = floats * Float.BYTES;
        if (bytes > Integer.MAX_VALUE) {
            throw new IOException(file + ": tensor " + section + " has " + bytes
                    + " bytes, more than one mapping can hold (2 GiB)");
        }
        return channel.map(FileChannel.MapMode.READ_ONLY, offset, bytes)
                .order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer();
    }

    public Path file() {
        return file;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public FloatBuffer tokenEmbedding() {
        return view(Section.EMBEDDING, 0);
    }

    @Override
    public FloatBuffer attentionNorm(int layer) {
        return view(Section.ATTENTION_NORM, layer);
    }

    @Override
    public FloatBuffer wq(int layer) {
        return view(Section.WQ, layer);
    }

    @Override
    public FloatBuffer wk(int layer) {
        return view(Section.WK, layer);
    }

    @Override
    public FloatBuffer wv(int layer) {
        return view(Section.WV, layer);
    }

    @Override
    public FloatBuffer wo(int layer) {
        return view(Section.WO, layer);
    }

    @Override
    public FloatBuffer ffnNorm(int layer) {
        return view(Section.FFN_NORM, layer);
    }

    @Override
    public FloatBuffer w1(int layer) {
        return view(Section.W1, layer);
    }

    @Override
    public FloatBuffer w2(int layer) {
        return view(Section.W2, layer);
    }

    @Override
    public FloatBuffer w3(int layer) {
        return view(Section.W3, layer);
    }

    @Override
    public FloatBuffer finalNorm() {
        return view(Section.FINAL_NORM, 0);
    }

    @Override
    public FloatBuffer classifier() {
        return view(config.tiedEmbeddings() ? Section.EMBEDDING : Section.CLASSIFIER, 0);
    }

    private FloatBuffer view(Section section, int layer) {
        Map<Section, FloatBuffer[]> current = tensors;
        if (current == null) {
            throw new IllegalStateException("checkpoint " + file + " is closed");
        }
        FloatBuffer[] views = current.get(section);
        if (layer < 0 || layer >= views.length) {
            throw new IndexOutOfBoundsException("layer " + layer + " out of range [0, " + views.length + ")");
        }
        return views[layer].duplicate();
    }

    /** Drops the mappings; the OS unmaps them once the views handed out are garbage. */
    @Override
    public void close() {
        tensors = null;
    }

    @Override
    public String toString() {
        return "LlamaCheckpoint[" + file + ", " + config + "]";
    }
}
