package io.streaminfer.model;

/**
 * Where each tensor lies in a llama2.c checkpoint file: a 28-byte header of 7 little-endian int32, then
 * float32 sections in run.c's order. One place for this arithmetic, shared by the loader and the
 * synthetic writer. All sizes and offsets are longs (a 1B model is about 4 GiB).
 */
final class Llama2cLayout {

    /** Bytes of the header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len. */
    static final int HEADER_BYTES = 7 * Integer.BYTES;

    /** The float32 sections of the file, in file order. Per-layer sections hold all layers back to back. */
    enum Section {
        EMBEDDING(false),       // (vocab, dim)
        ATTENTION_NORM(true),   // (layer, dim)
        WQ(true),               // (layer, dim, dim)
        WK(true),               // (layer, kv_dim, dim)
        WV(true),               // (layer, kv_dim, dim)
        WO(true),               // (layer, dim, dim)
        FFN_NORM(true),         // (layer, dim)
        W1(true),               // (layer, hidden, dim)
        W2(true),               // (layer, dim, hidden)
        W3(true),               // (layer, hidden, dim)
        FINAL_NORM(false),      // (dim)
        FREQ_CIS(false),        // (seq_len, head_size / 2) real, then the same imaginary; legacy, unused
        CLASSIFIER(false);      // (vocab, dim), present only when not shared

        final boolean perLayer;

        Section(boolean perLayer) {
            this.perLayer = perLayer;
        }
    }

    private final ModelConfig config;
    private final long[] offsets = new long[Section.values().length];
    private final long totalBytes;

    Llama2cLayout(ModelConfig config) {
        this.config = config;
        long offset = HEADER_BYTES;
        for (Section section : Section.values()) {
            offsets[section.ordinal()] = offset;
            offset += sectionFloats(section) * Float.BYTES;
        }
        this.totalBytes = offset;
    }

    ModelConfig config() {
        return config;
    }

    /** Floats of one tensor (one layer's slice for per-layer sections); 0 for an absent classifier. */
    long tensorFloats(Section section) {
        long dim = config.dim();
        long kvDim = config.kvDim();
        long hidden = config.hiddenDim();
        long vocab = config.vocabularySize();
        return switch (section) {
            case EMBEDDING -> vocab * dim;
            case ATTENTION_NORM, FFN_NORM, FINAL_NORM -> dim;
            case WQ, WO -> dim * dim;
            case WK, WV -> kvDim * dim;
            case W1, W3 -> hidden * dim;
            case W2 -> dim * hidden;
            case FREQ_CIS -> (long) config.contextLength() * config.headDim();
            case CLASSIFIER -> config.tiedEmbeddings() ? 0 : vocab * dim;
        };
    }

    long sectionFloats(Section section) {
        return tensorFloats(section) * (section.perLayer ? config.numberOfLayers() : 1);
    }

    /** Byte offset of a tensor; layer is ignored for sections that are not per layer. */
    long tensorOffset(Section section, int layer) {
        if (section.perLayer && (layer < 0 || layer >= config.numberOfLayers())) {
            throw new IndexOutOfBoundsException(
                    "layer " + layer + " out of range [0, " + config.numberOfLayers() + ")");
        }
        long base = offsets[section.ordinal()];
        return section.perLayer ? base + (long) layer * tensorFloats(section) * Float.BYTES : base;
    }

    /** Size in bytes of the whole file. */
    long totalBytes() {
        return totalBytes;
    }

    /** The header's vocab_size field: negative means a separate classifier follows. */
    int headerVocabularySize() {
        return config.tiedEmbeddings() ? config.vocabularySize() : -config.vocabularySize();
    }
}
