package io.streaminfer.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The format-neutral names of a Llama-family model's tensors (GGUF's, which are short and complete).
 * Readers map their own names onto these; the forward pass asks only for these. Matrices are
 * (output features, input features).
 */
public final class TensorNames {
    private TensorNames() {}

    /** (vocab, dim) */
    public static final String TOKEN_EMBEDDING = "token_embd";
    /** (dim) */
    public static final String OUTPUT_NORM = "output_norm";
    /** (vocab, dim); absent when the embeddings are tied */
    public static final String OUTPUT = "output";

    /** (dim) */
    public static String attentionNorm(int layer) { return block(layer, "attn_norm"); }
    /** (heads * head_dim, dim) */
    public static String query(int layer) { return block(layer, "attn_q"); }
    /** (kv_heads * head_dim, dim) */
    public static String key(int layer) { return block(layer, "attn_k"); }
    /** (kv_heads * head_dim, dim) */
    public static String value(int layer) { return block(layer, "attn_v"); }
    /** (dim, heads * head_dim) */
    public static String attentionOutput(int layer) { return block(layer, "attn_output"); }
    /** (heads * head_dim): Qwen2 */
    public static String queryBias(int layer) { return block(layer, "attn_q.bias"); }
    /** (kv_heads * head_dim): Qwen2 */
    public static String keyBias(int layer) { return block(layer, "attn_k.bias"); }
    /** (kv_heads * head_dim): Qwen2 */
    public static String valueBias(int layer) { return block(layer, "attn_v.bias"); }
    /** (head_dim): Qwen3's per-head RMSNorm of the queries */
    public static String queryNorm(int layer) { return block(layer, "attn_q_norm"); }
    /** (head_dim): Qwen3's per-head RMSNorm of the keys */
    public static String keyNorm(int layer) { return block(layer, "attn_k_norm"); }
    /** (dim) */
    public static String ffnNorm(int layer) { return block(layer, "ffn_norm"); }
    /** (hidden, dim): the SwiGLU gate, llama2.c's w1 */
    public static String ffnGate(int layer) { return block(layer, "ffn_gate"); }
    /** (hidden, dim): llama2.c's w3 */
    public static String ffnUp(int layer) { return block(layer, "ffn_up"); }
    /** (dim, hidden): llama2.c's w2 */
    public static String ffnDown(int layer) { return block(layer, "ffn_down"); }

    /** The classifier: the embedding itself when tied. */
    public static String classifier(ModelConfig config) {
        return config.tiedEmbeddings() ? TOKEN_EMBEDDING : OUTPUT;
    }

    /** Every tensor the forward pass reads for this configuration. */
    public static List<String> required(ModelConfig config) {
        List<String> names = new ArrayList<>(List.of(TOKEN_EMBEDDING, OUTPUT_NORM));
        if (!config.tiedEmbeddings()) {
            names.add(OUTPUT);
        }
        for (int l = 0; l < config.numberOfLayers(); l++) {
            names.addAll(List.of(attentionNorm(l), query(l), key(l), value(l), attentionOutput(l), ffnNorm(l),
                    ffnGate(l), ffnUp(l), ffnDown(l)));
            if (config.attentionBias()) {
                names.addAll(List.of(queryBias(l), keyBias(l), valueBias(l)));
            }
            if (config.queryKeyNorm()) {
                names.addAll(List.of(queryNorm(l), keyNorm(l)));
            }
        }
        return names;
    }

    /**
     * Refuses a checkpoint that lacks a tensor the configuration needs, before anything is loaded.
     *
     * @throws IllegalArgumentException naming the first missing tensor and how many are missing
     */
    public static void requirePresent(Checkpoint checkpoint, String where) {
        List<String> missing = required(checkpoint.config()).stream().filter(n -> !checkpoint.contains(n)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(where + ": tensor " + missing.get(0) + " is missing"
                    + (missing.size() > 1 ? " (and " + (missing.size() - 1) + " more)" : ""));
        }
    }

    private static String block(int layer, String name) {
        return "blk." + layer + "." + name;
    }
}
