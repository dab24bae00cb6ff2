package io.streaminfer.model.gguf;

import io.streaminfer.model.gguf.GgufMetadata.ValueType;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A tiny Llama-family GGUF model for tests, with llama.cpp's key and tensor names: dim 8, hidden 16, one
 * layer, 2 query heads of 4 (or of {@code headDim}), 1 KV head, a 16-piece SentencePiece vocabulary, F32
 * random weights. Architectures add their own tensors (qwen2: q/k/v biases; qwen3: q/k norms).
 */
final class TinyGguf {
    static final int DIM = 8;
    static final int HIDDEN = 16;
    static final int HEADS = 2;
    static final int KV_HEADS = 1;
    static final int VOCAB = 16;

    private TinyGguf() {}

    /** The vocabulary: unk, BOS, EOS, ▁, then letters and merges. */
    static final List<String> TOKENS = List.of("<unk>", "<s>", "</s>", "▁", "a", "b", "c", "ab", "▁a", "▁ab",
            "<0x0A>", "<0x41>", "bc", "▁c", "<|eot|>", "x");
    static final List<Integer> TYPES = List.of(2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 6, 6, 1, 1, 3, 1);

    static GgufWriter model(String arch, int headDim, boolean tied) {
        Random random = new Random(7);
        int hd = headDim > 0 ? headDim : DIM / HEADS;
        String p = arch + ".";
        GgufWriter w = new GgufWriter().string("general.architecture", arch).string("general.name", "tiny-" + arch)
                .u32(p + "context_length", 2048).u32(p + "embedding_length", DIM).u32(p + "block_count", 1)
                .u32(p + "feed_forward_length", HIDDEN).u32(p + "attention.head_count", HEADS)
                .u32(p + "attention.head_count_kv", KV_HEADS).f32(p + "attention.layer_norm_rms_epsilon", 1e-6f)
                .f32(p + "rope.freq_base", arch.equals("llama") ? 10000f : 1000000f)
                .string("tokenizer.ggml.model", "llama")
                .array("tokenizer.ggml.tokens", ValueType.STRING, TOKENS)
                .array("tokenizer.ggml.scores", ValueType.FLOAT32, scores())
                .array("tokenizer.ggml.token_type", ValueType.INT32, TYPES)
                .u32("tokenizer.ggml.bos_token_id", 1).u32("tokenizer.ggml.eos_token_id", 2);
        if (headDim > 0) {
            w.u32(p + "attention.key_length", headDim).u32(p + "attention.value_length", headDim);
        }
        w.f32Tensor("token_embd.weight", values(random, VOCAB * DIM), DIM, VOCAB);
        w.f32Tensor("output_norm.weight", ones(DIM), DIM);
        if (!tied) {
            w.f32Tensor("output.weight", values(random, VOCAB * DIM), DIM, VOCAB);
        }
        w.f32Tensor("blk.0.attn_norm.weight", ones(DIM), DIM);
        w.f32Tensor("blk.0.attn_q.weight", values(random, HEADS * hd * DIM), DIM, HEADS * hd);
        w.f32Tensor("blk.0.attn_k.weight", values(random, KV_HEADS * hd * DIM), DIM, KV_HEADS * hd);
        w.f32Tensor("blk.0.attn_v.weight", values(random, KV_HEADS * hd * DIM), DIM, KV_HEADS * hd);
        w.f32Tensor("blk.0.attn_output.weight", values(random, HEADS * hd * DIM), HEADS * hd, DIM);
        if (arch.equals("qwen2")) {
            w.f32Tensor("blk.0.attn_q.bias", values(random, HEADS * hd), HEADS * hd);
            w.f32Tensor("blk.0.attn_k.bias", values(random, KV_HEADS * hd), KV_HEADS * hd);
            w.f32Tensor("blk.0.attn_v.bias", values(random, KV_HEADS * hd), KV_HEADS * hd);
        }
        if (arch.equals("qwen3")) {
            w.f32Tensor("blk.0.attn_q_norm.weight", ones(hd), hd);
            w.f32Tensor("blk.0.attn_k_norm.weight", ones(hd), hd);
        }
        w.f32Tensor("blk.0.ffn_norm.weight", ones(DIM), DIM);
        w.f32Tensor("blk.0.ffn_gate.weight", values(random, HIDDEN * DIM), DIM, HIDDEN);
        w.f32Tensor("blk.0.ffn_up.weight", values(random, HIDDEN * DIM), DIM, HIDDEN);
        w.f32Tensor("blk.0.ffn_down.weight", values(random, HIDDEN * DIM), HIDDEN, DIM);
        return w;
    }

    /** Merge scores: longer pieces score higher, so "▁ab" beats "▁a" + "b". */
    private static List<Float> scores() {
        List<Float> s = new ArrayList<>();
        for (String t : TOKENS) {
            s.add(t.length() > 1 && !t.startsWith("<") ? (float) t.length() : 0f);
        }
        return s;
    }

    private static float[] values(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * 0.3f;
        }
        return v;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }
}
