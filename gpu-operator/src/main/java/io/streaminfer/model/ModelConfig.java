package io.streaminfer.model;

/**
 * Shapes and constants of a Llama-family model. Immutable; checked on construction.
 *
 * @param dim model width
 * @param hiddenDim width of the SwiGLU feed-forward
 * @param numberOfLayers transformer blocks
 * @param numberOfHeads query heads
 * @param numberOfKeyValueHeads key/value heads (fewer than query heads for grouped-query attention)
 * @param vocabularySize tokens in the vocabulary
 * @param contextLength maximum sequence length (positions)
 * @param sharedClassifier whether the classifier reuses the token embedding
 * @param rmsNormEps epsilon of RMSNorm
 * @param ropeTheta base of the rotary frequencies
 * @param ropeLayout which elements rotary embedding pairs up
 */
public record ModelConfig(
        int dim,
        int hiddenDim,
        int numberOfLayers,
        int numberOfHeads,
        int numberOfKeyValueHeads,
        int vocabularySize,
        int contextLength,
        boolean sharedClassifier,
        float rmsNormEps,
        float ropeTheta,
        RopeLayout ropeLayout) {

    /** How rotary embedding pairs the elements of a head. */
    public enum RopeLayout {
        /** Adjacent pairs (i, i+1), as llama2.c and Meta's original checkpoints. */
        ADJACENT_PAIRS,
        /** Pairs (i, i + headSize/2), as Hugging Face checkpoints. */
        ROTATE_HALF
    }

    public ModelConfig {
        positive("dim", dim);
        positive("hidden_dim", hiddenDim);
        positive("n_layers", numberOfLayers);
        positive("n_heads", numberOfHeads);
        positive("n_kv_heads", numberOfKeyValueHeads);
        positive("vocab_size", vocabularySize);
        positive("seq_len", contextLength);
        if (dim % numberOfHeads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not a multiple of n_heads " + numberOfHeads);
        }
        if (numberOfHeads % numberOfKeyValueHeads != 0) {
            throw new IllegalArgumentException(
                    "n_heads " + numberOfHeads + " is not a multiple of n_kv_heads " + numberOfKeyValueHeads);
        }
        if ((dim / numberOfHeads) % 2 != 0) {
            throw new IllegalArgumentException("head size " + dim / numberOfHeads + " must be even for rotary embedding");
        }
        if (!(rmsNormEps > 0)) {
            throw new IllegalArgumentException("rms_norm_eps must be > 0, got " + rmsNormEps);
        }
        if (!(ropeTheta > 0)) {
            throw new IllegalArgumentException("rope_theta must be > 0, got " + ropeTheta);
        }
        if (ropeLayout == null) {
            throw new IllegalArgumentException("rope_layout is required");
        }
    }

    /** The llama2.c defaults for epsilon, theta and rotary layout. */
    public static ModelConfig llama2c(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocab,
                                      int seqLen, boolean sharedClassifier) {
        return new ModelConfig(dim, hiddenDim, layers, heads, kvHeads, vocab, seqLen, sharedClassifier,
                1e-5f, 10000f, RopeLayout.ADJACENT_PAIRS);
    }

    public int headSize() {
        return dim / numberOfHeads;
    }

    /** Width of the K and V projections. */
    public int kvDim() {
        return numberOfKeyValueHeads * headSize();
    }

    /** Parameters in the model, the classifier counted once if shared. */
    public long parameterCount() {
        long perLayer = 2L * dim + (long) dim * dim * 2 + (long) dim * kvDim() * 2 + 3L * dim * hiddenDim;
        long embedding = (long) vocabularySize * dim;
        return embedding + perLayer * numberOfLayers + dim + (sharedClassifier ? 0 : embedding);
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }
}
