package io.streaminfer.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.RopeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face model directory's {@code config.json} (and {@code generation_config.json}'s stop ids) as a
 * {@link ModelConfig}. The architectures of the Llama family differ by a few flags: Qwen2 always has q/k/v
 * biases, Qwen3 has per-head q/k norms and an explicit head_dim, Mistral is Llama's math. Anything this
 * release cannot run (another architecture, activation or RoPE scaling) is refused here, by name.
 */
public final class HfConfig {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Supported {@code architectures} entries and the family name records carry. */
    private static final Map<String, String> ARCHITECTURES = Map.of(
            "LlamaForCausalLM", "llama",
            "MistralForCausalLM", "mistral",
            "Qwen2ForCausalLM", "qwen2",
            "Qwen3ForCausalLM", "qwen3");

    private HfConfig() {}

    /** Reads {@code dir/config.json} and, when present, {@code dir/generation_config.json}. */
    public static ModelConfig read(Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        JsonNode c = JSON.readTree(file.toFile());
        String where = file.toString();
        try {
            return parse(c, readOptional(dir.resolve("generation_config.json")), where);
        } catch (IllegalArgumentException e) {
            throw new IOException(where + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode readOptional(Path file) throws IOException {
        return Files.isRegularFile(file) ? JSON.readTree(file.toFile()) : JSON.createObjectNode();
    }

    static ModelConfig parse(JsonNode c, JsonNode generation, String where) {
        String architecture = architecture(c);
        String activation = c.path("hidden_act").asText("silu");
        if (!activation.equals("silu")) {
            throw new IllegalArgumentException("hidden_act " + activation + " is not supported (only silu: SwiGLU)");
        }
        int hidden = required(c, "hidden_size");
        int heads = required(c, "num_attention_heads");
        boolean qwen2 = architecture.equals("qwen2");
        boolean qwen3 = architecture.equals("qwen3");
        ModelConfig.Builder b = ModelConfig.builder().architecture(architecture)
                .dim(hidden)
                .hiddenDim(required(c, "intermediate_size"))
                .layers(required(c, "num_hidden_layers"))
                .heads(heads)
                .kvHeads(c.path("num_key_value_heads").asInt(heads))
                .headDim(c.path("head_dim").isNumber() ? c.get("head_dim").asInt() : 0)
                .vocabularySize(required(c, "vocab_size"))
                .contextLength(required(c, "max_position_embeddings"))
                .rmsNormEps((float) c.path("rms_norm_eps").asDouble(1e-6))
                .rope(rope(c))
                .attentionBias(qwen2 || c.path("attention_bias").asBoolean(false))
                .queryKeyNorm(qwen3)
                .tiedEmbeddings(c.path("tie_word_embeddings").asBoolean(false))
                .bosTokenId(c.path("bos_token_id").isNumber() ? c.get("bos_token_id").asInt() : -1);
        Set<Integer> eos = new LinkedHashSet<>(ids(c.path("eos_token_id")));
        eos.addAll(ids(generation.path("eos_token_id")));
        b.eosTokenIds(new ArrayList<>(eos));
        return b.build();
    }

    private static String architecture(JsonNode c) {
        JsonNode list = c.path("architectures");
        if (!list.isArray() || list.isEmpty()) {
            throw new IllegalArgumentException("no architectures entry; supported: " + ARCHITECTURES.keySet());
        }
        String name = list.get(0).asText();
        String family = ARCHITECTURES.get(name);
        if (family == null) {
            throw new IllegalArgumentException("architecture " + name + " is not supported; supported: "
                    + ARCHITECTURES.keySet().stream().sorted().toList());
        }
        return family;
    }

    /** Theta and scaling, from {@code rope_scaling} (old "type" or new "rope_type") or transformers 5's {@code rope_parameters}. */
    private static RopeConfig rope(JsonNode c) {
        JsonNode parameters = c.path("rope_parameters");
        JsonNode scaling = parameters.isObject() ? parameters : c.path("rope_scaling");
        float theta = (float) (parameters.isObject() && parameters.has("rope_theta")
                ? parameters.get("rope_theta").asDouble() : c.path("rope_theta").asDouble(10000));
        RopeConfig.Scaling s = RopeConfig.Scaling.NONE;
        if (scaling.isObject()) {
            String type = scaling.has("rope_type") ? scaling.get("rope_type").asText() : scaling.path("type").asText("default");
            float factor = (float) scaling.path("factor").asDouble(1);
            s = switch (type) {
                case "default" -> RopeConfig.Scaling.NONE;
                case "linear" -> RopeConfig.Scaling.linear(factor);
                case "llama3" -> RopeConfig.Scaling.llama3(factor, (float) scaling.path("low_freq_factor").asDouble(),
                        (float) scaling.path("high_freq_factor").asDouble(),
                        scaling.path("original_max_position_embeddings").asInt());
                default -> throw new IllegalArgumentException("rope scaling " + type
                        + " is not supported (default, linear and llama3 are)");
            };
        }
        // Hugging Face checkpoints lay q and k out for rotate-half RoPE.
        return new RopeConfig(RopeConfig.Layout.ROTATE_HALF, theta, s);
    }

    private static List<Integer> ids(JsonNode node) {
        List<Integer> out = new ArrayList<>();
        if (node.isNumber()) {
            out.add(node.asInt());
        } else if (node.isArray()) {
            node.forEach(n -> out.add(n.asInt()));
        }
        return out;
    }

    private static int required(JsonNode c, String key) {
        JsonNode v = c.get(key);
        if (v == null || !v.isNumber()) {
            throw new IllegalArgumentException(key + " is missing or not a number");
        }
        return v.asInt();
    }
}
