package io.streaminfer.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streaminfer.compute.WeightTensor;
import io.streaminfer.model.MappedCheckpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.TensorNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face model directory: {@code config.json} and the weights of {@code model.safetensors}, or of
 * the shards {@code model.safetensors.index.json} lists, memory-mapped and renamed to {@link TensorNames}.
 * F32, F16 and BF16 tensors are read in place.
 */
public final class HfCheckpoint extends MappedCheckpoint {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
    /** Per-layer Hugging Face names (after {@code model.layers.N.}) and their neutral counterparts. */
    private static final Map<String, String> LAYER_NAMES = Map.ofEntries(
            Map.entry("input_layernorm.weight", "attn_norm"),
            Map.entry("self_attn.q_proj.weight", "attn_q"),
            Map.entry("self_attn.k_proj.weight", "attn_k"),
            Map.entry("self_attn.v_proj.weight", "attn_v"),
            Map.entry("self_attn.o_proj.weight", "attn_output"),
            Map.entry("self_attn.q_proj.bias", "attn_q.bias"),
            Map.entry("self_attn.k_proj.bias", "attn_k.bias"),
            Map.entry("self_attn.v_proj.bias", "attn_v.bias"),
            Map.entry("self_attn.q_norm.weight", "attn_q_norm"),
            Map.entry("self_attn.k_norm.weight", "attn_k_norm"),
            Map.entry("post_attention_layernorm.weight", "ffn_norm"),
            Map.entry("mlp.gate_proj.weight", "ffn_gate"),
            Map.entry("mlp.up_proj.weight", "ffn_up"),
            Map.entry("mlp.down_proj.weight", "ffn_down"));

    private HfCheckpoint(Path dir, ModelConfig config, Map<String, WeightTensor> tensors) {
        super(dir, config, tensors);
    }

    /** Reads the configuration and maps every weight file of the directory. */
    public static HfCheckpoint open(Path dir) throws IOException {
        ModelConfig config = HfConfig.read(dir);
        Map<String, WeightTensor> tensors = new LinkedHashMap<>();
        for (Path file : weightFiles(dir)) {
            for (Map.Entry<String, WeightTensor> e : Safetensors.read(file).entrySet()) {
                String neutral = neutralName(e.getKey());
                if (neutral != null) {
                    tensors.put(neutral, e.getValue());
                }
            }
        }
        return new HfCheckpoint(dir, config, tensors);
    }

    /** {@code model.safetensors}, or every shard the index's weight_map names. */
    private static List<Path> weightFiles(Path dir) throws IOException {
        Path single = dir.resolve("model.safetensors");
        if (Files.isRegularFile(single)) {
            return List.of(single);
        }
        Path index = dir.resolve("model.safetensors.index.json");
        if (!Files.isRegularFile(index)) {
            throw new IOException(dir + ": no model.safetensors and no model.safetensors.index.json (only safetensors "
                    + "weights are read, not pytorch_model.bin)");
        }
        JsonNode weightMap = JSON.readTree(index.toFile()).path("weight_map");
        Set<String> files = new LinkedHashSet<>();
        weightMap.forEach(f -> files.add(f.asText()));
        if (files.isEmpty()) {
            throw new IOException(index + ": its weight_map names no file");
        }
        List<Path> paths = files.stream().map(dir::resolve).toList();
        for (Path p : paths) {
            if (!Files.isRegularFile(p)) {
                throw new IOException(index + " names " + p.getFileName() + ", which is missing");
            }
        }
        return paths;
    }

    /** The neutral name of a Hugging Face tensor, or null for one the forward pass does not read. */
    static String neutralName(String hfName) {
        switch (hfName) {
            case "model.embed_tokens.weight":
                return TensorNames.TOKEN_EMBEDDING;
            case "model.norm.weight":
                return TensorNames.OUTPUT_NORM;
            case "lm_head.weight":
                return TensorNames.OUTPUT;
            default:
                Matcher m = LAYER.matcher(hfName);
                if (!m.matches()) {
                    return null;
                }
                String suffix = LAYER_NAMES.get(m.group(2));
                return suffix == null ? null : "blk." + m.group(1) + "." + suffix;
        }
    }
}
