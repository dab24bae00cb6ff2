package io.streaminfer.model;

import java.util.List;

/**
 * Shapes and constants of a Llama-family model, whatever file it came from (llama2.c, Hugging Face
 * config.json, GGUF metadata). Immutable and checked on construction; build one with {@link #builder()}.
 *
 * @param architecture family name as the checkpoint says it ({@code llama}, {@code qwen2}, {@code qwen3},
 *     {@code mistral}); the forward pass reads the flags below, not this name
 * @param dim model width (hidden_size)
 * @param hiddenDim width of the SwiGLU feed-forward (intermediate_size)
 * @param numberOfLayers transformer blocks
 * @param numberOfHeads query heads
 * @param numberOfKeyValueHeads key/value heads (fewer than query heads for grouped-query attention)
 * @param headDim features per head; dim / heads unless the checkpoint says otherwise (Qwen3)
 * @param vocabularySize rows of the embedding and the classifier
 * @param contextLength maximum sequence length (positions)
 * @param rmsNormEps epsilon of every RMSNorm
 * @param rope rotary embedding: layout, theta and scaling
 * @param attentionBias whether q, k and v projections carry a bias (Qwen2)
 * @param queryKeyNorm whether q and k get a per-head RMSNorm before RoPE (Qwen3)
 * @param tiedEmbeddings whether the classifier reuses the token embedding
 * @param bosTokenId the id that starts a sequence, or -1 when the model has none
 * @param eosTokenIds every id that ends generation (a sampled one is not part of the completion)
 */
public record ModelConfig(
        String architecture,
        int dim,
        int hiddenDim,
        int numberOfLayers,
        int numberOfHeads,
        int numberOfKeyValueHeads,
        int headDim,
        int vocabularySize,
        int contextLength,
        float rmsNormEps,
        RopeConfig rope,
        boolean attentionBias,
        boolean queryKeyNorm,
        boolean tiedEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds) implements java.io.Serializable {

    public ModelConfig {
        if (architecture == null || architecture.isBlank()) {
            throw new IllegalArgumentException("architecture is required");
        }
        positive("dim", dim);
        positive("hidden_dim", hiddenDim);
        positive("n_layers", numberOfLayers);
        positive("n_heads", numberOfHeads);
        positive("n_kv_heads", numberOfKeyValueHeads);
        positive("head_dim", headDim);
        positive("vocab_size", vocabularySize);
        positive("seq_len", contextLength);
        if (numberOfHeads % numberOfKeyValueHeads != 0) {
            throw new IllegalArgumentException(
                    "n_heads " + numberOfHeads + " is not a multiple of n_kv_heads " + numberOfKeyValueHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + headDim + " must be even for rotary embedding");
        }
        if (!(rmsNormEps > 0)) {
            throw new IllegalArgumentException("rms_norm_eps must be > 0, got " + rmsNormEps);
        }
        if (rope == null) {
            throw new IllegalArgumentException("rope is required");
        }
        if (bosTokenId < -1 || bosTokenId >= vocabularySize) {
            throw new IllegalArgumentException("bos_token_id " + bosTokenId + " is outside the vocabulary of "
                    + vocabularySize);
        }
        eosTokenIds = List.copyOf(eosTokenIds == null ? List.of() : eosTokenIds);
        for (int eos : eosTokenIds) {
            if (eos < 0 || eos >= vocabularySize) {
                throw new IllegalArgumentException("eos_token_id " + eos + " is outside the vocabulary of "
                        + vocabularySize);
            }
        }
    }

    /** llama2.c's BOS and EOS: run.c ends a story when it samples BOS, so both stop generation. */
    public static final int LLAMA2C_BOS = 1;
    public static final int LLAMA2C_EOS = 2;

    /**
     * A llama2.c model: epsilon 1e-5, theta 10000, adjacent-pair RoPE, head_dim = dim / heads, BOS 1 and
     * the stop ids {1, 2} (run.c stops on BOS; Llama 2's EOS is 2).
     */
    public static ModelConfig llama2c(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocab,
                                      int seqLen, boolean tiedEmbeddings) {
        if (heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not a multiple of n_heads " + heads);
        }
        return builder().architecture("llama").dim(dim).hiddenDim(hiddenDim).layers(layers).heads(heads)
                .kvHeads(kvHeads).vocabularySize(vocab).contextLength(seqLen).tiedEmbeddings(tiedEmbeddings)
                .rope(RopeConfig.plain(RopeConfig.Layout.ADJACENT_PAIRS, 10000f))
                .bosTokenId(vocab > LLAMA2C_BOS ? LLAMA2C_BOS : -1)
                .eosTokenIds(vocab > LLAMA2C_EOS ? List.of(LLAMA2C_BOS, LLAMA2C_EOS) : List.of())
                .build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this config's values, to change a few. */
    public Builder toBuilder() {
        return new Builder().architecture(architecture).dim(dim).hiddenDim(hiddenDim).layers(numberOfLayers)
                .heads(numberOfHeads).kvHeads(numberOfKeyValueHeads).headDim(headDim).vocabularySize(vocabularySize)
                .contextLength(contextLength).rmsNormEps(rmsNormEps).rope(rope).attentionBias(attentionBias)
                .queryKeyNorm(queryKeyNorm).tiedEmbeddings(tiedEmbeddings).bosTokenId(bosTokenId)
                .eosTokenIds(eosTokenIds);
    }

    /** Width of the query projection: heads * head_dim (equals dim unless head_dim is explicit). */
    public int queryDim() {
        return numberOfHeads * headDim;
    }

    /** Width of the K and V projections. */
    public int kvDim() {
        return numberOfKeyValueHeads * headDim;
    }

    /** Whether sampling {@code token} ends a sequence. */
    public boolean isEos(int token) {
        return eosTokenIds.contains(token);
    }

    /** Parameters in the model, the classifier counted once if tied. */
    public long parameterCount() {
        long attention = (long) dim * queryDim() * 2 + (long) dim * kvDim() * 2
                + (attentionBias ? queryDim() + 2L * kvDim() : 0) + (queryKeyNorm ? 2L * headDim : 0);
        long perLayer = 2L * dim + attention + 3L * dim * hiddenDim;
        long embedding = (long) vocabularySize * dim;
        return embedding + perLayer * numberOfLayers + dim + (tiedEmbeddings ? 0 : embedding);
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }

    /** Collects the fields of a {@link ModelConfig}; {@link #build()} checks them. */
    public static final class Builder {
        private String architecture = "llama";
        private int dim;
        private int hiddenDim;
        private int layers;
        private int heads;
        private int kvHeads;
        private int headDim;           // 0: dim / heads
        private int vocabularySize;
        private int contextLength;
        private float rmsNormEps = 1e-5f;
        private RopeConfig rope = RopeConfig.plain(RopeConfig.Layout.ROTATE_HALF, 10000f);
        private boolean attentionBias;
        private boolean queryKeyNorm;
        private boolean tiedEmbeddings;
        private int bosTokenId = -1;
        private List<Integer> eosTokenIds = List.of();

        private Builder() {}

        public Builder architecture(String v) { architecture = v; return this; }
        public Builder dim(int v) { dim = v; return this; }
        public Builder hiddenDim(int v) { hiddenDim = v; return this; }
        public Builder layers(int v) { layers = v; return this; }
        public Builder heads(int v) { heads = v; return this; }
        /** Key/value heads; 0 or unset means as many as query heads. */
        public Builder kvHeads(int v) { kvHeads = v; return this; }
        /** Features per head; 0 or unset means dim / heads. */
        public Builder headDim(int v) { headDim = v; return this; }
        public Builder vocabularySize(int v) { vocabularySize = v; return this; }
        public Builder contextLength(int v) { contextLength = v; return this; }
        public Builder rmsNormEps(float v) { rmsNormEps = v; return this; }
        public Builder rope(RopeConfig v) { rope = v; return this; }
        public Builder attentionBias(boolean v) { attentionBias = v; return this; }
        public Builder queryKeyNorm(boolean v) { queryKeyNorm = v; return this; }
        public Builder tiedEmbeddings(boolean v) { tiedEmbeddings = v; return this; }
        public Builder bosTokenId(int v) { bosTokenId = v; return this; }
        public Builder eosTokenIds(List<Integer> v) { eosTokenIds = v; return this; }

        public ModelConfig build() {
            int kv = kvHeads > 0 ? kvHeads : heads;
            int head = headDim;
            if (head <= 0) {
                if (heads <= 0 || dim % heads != 0) {
                    throw new IllegalArgumentException("dim " + dim + " is not a multiple of n_heads " + heads
                            + " and no head_dim is given");
                }
                head = dim / heads;
            }
            return new ModelConfig(architecture, dim, hiddenDim, layers, heads, kv, head, vocabularySize,
                    contextLength, rmsNormEps, rope, attentionBias, queryKeyNorm, tiedEmbeddings, bosTokenId,
                    eosTokenIds);
        }
    }
}
