package io.streaminfer.model.gguf;

import io.streaminfer.compute.WeightTensor;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.RopeConfig;
import io.streaminfer.model.TensorNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A GGUF file's metadata as a {@link ModelConfig}, read from the {@code {arch}.*} keys as llama.cpp's loader
 * reads them; the architectures of the Llama family differ by a few flags and extra tensors: {@code llama}
 * (Llama 1-3, Mistral, TinyLlama: adjacent-pair RoPE), {@code qwen2} (q/k/v biases, rotate-half RoPE) and
 * {@code qwen3} (per-head q/k RMSNorm, explicit head_dim, rotate-half RoPE).
 *
 * <p><b>Files from llama2.c's converter.</b> {@code llama-convert-llama2c-to-ggml} writes
 * {@code llama.context_length = 128} whatever the checkpoint was trained on (its own default, not the
 * llama2.c header's seq_len, which it drops). Such a file is recognised by the converter's signature:
 * {@code general.name = "llama"} (the architecture's name, where other writers put the model's),
 * {@code llama.context_length = 128}, and a separator or padding id of 0xFFFFFFFF (llama.cpp's null token
 * stored as u32, which no other writer emits). Its context length is then
 * {@value #LLAMA2C_CONVERTED_CONTEXT} (Llama 2's, the longest any llama2.c-format model was trained on; the
 * engine's --max-context and --kv-budget bound the KV cache as for any model), and BOS also ends generation,
 * as run.c stops on it. {@link GgufCheckpoint#open(java.nio.file.Path, int)} overrides the context length of
 * any file.
 */
final class GgufConfig {
    static final List<String> ARCHITECTURES = List.of("llama", "qwen2", "qwen3");
    static final int LLAMA2C_CONVERTED_CONTEXT = 4096;
    private static final long NULL_TOKEN = 0xFFFFFFFFL;

    private GgufConfig() {}

    /** The architecture, refused by name unless it is one this release runs. */
    static String architecture(GgufMetadata m) {
        String arch = m.string("general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw new IllegalArgumentException("architecture " + arch + " is not supported; supported: " + ARCHITECTURES);
        }
        return arch;
    }

    /** Whether the file carries llama-convert-llama2c-to-ggml's signature (see the class comment). */
    static boolean isLlama2cConversion(GgufMetadata m) {
        return "llama".equals(m.optionalString("general.name").orElse(null))
                && "llama".equals(m.optionalString("general.architecture").orElse(null))
                && m.optionalInteger("llama.context_length").orElse(-1) == 128
                && (m.optionalInteger("tokenizer.ggml.seperator_token_id").orElse(-1) == NULL_TOKEN
                    || m.optionalInteger("tokenizer.ggml.padding_token_id").orElse(-1) == NULL_TOKEN);
    }

    /**
     * The model's configuration.
     *
     * @param tensors the file's tensors by neutral name
     * @param contextOverride a context length that replaces the file's, or 0
     */
    static ModelConfig read(GgufMetadata m, Map<String, WeightTensor> tensors, int contextOverride) {
        String arch = architecture(m);
        String p = arch + ".";
        int dim = m.dimension(p + "embedding_length");
        int heads = m.dimension(p + "attention.head_count");
        int kvHeads = m.has(p + "attention.head_count_kv") ? m.dimension(p + "attention.head_count_kv") : heads;
        int headDim = m.has(p + "attention.key_length") ? m.dimension(p + "attention.key_length") : 0;
        int effectiveHeadDim = headDim > 0 ? headDim : dim / heads;
        if (m.has(p + "attention.value_length") && m.dimension(p + "attention.value_length") != effectiveHeadDim) {
            throw new IllegalArgumentException(p + "attention.value_length " + m.integer(p + "attention.value_length")
                    + " differs from the key length " + effectiveHeadDim + "; only equal lengths are supported");
        }
        if (m.has(p + "rope.dimension_count") && m.dimension(p + "rope.dimension_count") != effectiveHeadDim) {
            throw new IllegalArgumentException(p + "rope.dimension_count " + m.integer(p + "rope.dimension_count")
                    + " rotates part of a head of " + effectiveHeadDim + "; only whole-head RoPE is supported");
        }
        WeightTensor embedding = tensors.get(TensorNames.TOKEN_EMBEDDING);
        if (embedding == null) {
            throw new IllegalArgumentException("tensor " + TensorNames.TOKEN_EMBEDDING + " is missing");
        }
        int vocab = embedding.rows();
        if (m.has(p + "vocab_size") && m.integer(p + "vocab_size") != vocab) {
            throw new IllegalArgumentException(p + "vocab_size " + m.integer(p + "vocab_size") + " differs from the "
                    + vocab + " rows of " + TensorNames.TOKEN_EMBEDDING);
        }
        boolean converted = isLlama2cConversion(m);
        int context = contextOverride > 0 ? contextOverride
                : converted ? LLAMA2C_CONVERTED_CONTEXT : m.dimension(p + "context_length");
        float theta = (float) m.real(p + "rope.freq_base", 10000);
        RopeConfig.Layout layout = arch.equals("llama") ? RopeConfig.Layout.ADJACENT_PAIRS : RopeConfig.Layout.ROTATE_HALF;
        RopeConfig rope = new RopeConfig(layout, theta, scaling(m, p, tensors.get("rope_freqs"), theta, effectiveHeadDim));

        int bos = specialId(m, "tokenizer.ggml.bos_token_id", vocab);
        List<Integer> eos = new ArrayList<>();
        for (String key : List.of("eos", "eot", "eom")) {
            int id = specialId(m, "tokenizer.ggml." + key + "_token_id", vocab);
            if (id >= 0 && !eos.contains(id)) {
                eos.add(id);
            }
        }
        if (converted && bos >= 0 && !eos.contains(bos)) {
            eos.add(bos);
        }
        return ModelConfig.builder().architecture(arch).dim(dim).hiddenDim(m.dimension(p + "feed_forward_length"))
                .layers(m.dimension(p + "block_count")).heads(heads).kvHeads(kvHeads).headDim(headDim)
                .vocabularySize(vocab).contextLength(context)
                .rmsNormEps((float) required(m, p + "attention.layer_norm_rms_epsilon"))
                .rope(rope)
                .attentionBias(tensors.containsKey(TensorNames.queryBias(0)))
                .queryKeyNorm(tensors.containsKey(TensorNames.queryNorm(0)))
                .tiedEmbeddings(!tensors.containsKey(TensorNames.OUTPUT))
                .bosTokenId(bos).eosTokenIds(eos)
                .build();
    }

    /** {@code rope.scaling.type} none or linear, or Llama 3's banded rule read from a {@code rope_freqs} tensor. */
    private static RopeConfig.Scaling scaling(GgufMetadata m, String p, WeightTensor ropeFreqs, float theta, int headDim) {
        String type = m.optionalString(p + "rope.scaling.type").orElse("none");
        RopeConfig.Scaling scaling = switch (type) {
            case "none" -> RopeConfig.Scaling.NONE;
            case "linear" -> RopeConfig.Scaling.linear((float) m.real(p + "rope.scaling.factor", 1));
            default -> throw new IllegalArgumentException(p + "rope.scaling.type " + type
                    + " is not supported (none and linear are, and Llama 3's rope_freqs)");
        };
        if (ropeFreqs == null) {
            return scaling;
        }
        if (scaling.type() != RopeConfig.Scaling.Type.NONE) {
            throw new IllegalArgumentException("the file has both " + p + "rope.scaling.type " + type
                    + " and a rope_freqs tensor; only one scaling at a time is supported");
        }
        if (ropeFreqs.rows() * ropeFreqs.cols() != headDim / 2) {
            throw new IllegalArgumentException("rope_freqs has " + ropeFreqs.rows() * ropeFreqs.cols()
                    + " factors for the " + headDim / 2 + " frequencies of a head");
        }
        OptionalLong original = m.optionalInteger(p + "rope.scaling.original_context_length");
        return RopeFrequencyFactors.toScaling(ropeFreqs.toFloats(), theta, headDim,
                original.isPresent() ? (int) original.getAsLong() : RopeFrequencyFactors.LLAMA3_ORIGINAL_CONTEXT);
    }

    private static double required(GgufMetadata m, String key) {
        if (!m.has(key)) {
            throw new IllegalArgumentException("metadata " + key + " is missing");
        }
        return m.real(key, 0);
    }

    /** A token id from the metadata, or -1 when absent, null (0xFFFFFFFF) or outside the vocabulary. */
    private static int specialId(GgufMetadata m, String key, int vocab) {
        long id = m.optionalInteger(key).orElse(-1);
        return id >= 0 && id < vocab ? (int) id : -1;
    }
}
