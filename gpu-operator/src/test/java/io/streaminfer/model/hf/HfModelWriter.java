package io.streaminfer.model.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streaminfer.compute.WeightTensor;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.RopeConfig;
import io.streaminfer.model.TensorNames;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a checkpoint as a Hugging Face model directory (test data): config.json, and the weights as
 * safetensors in F32, F16 or BF16, split over {@code shards} files with an index when more than one. Queries
 * and keys of an adjacent-pair (llama2.c) checkpoint are permuted into the rotate-half layout, as
 * Meta's conversion script does: HF row h*hd + j*hd/2 + i is row h*hd + 2i + j. The checkpoint's RoPE
 * scaling (linear or llama3) becomes config.json's {@code rope_scaling}; a GGUF {@code rope_freqs} tensor
 * is not written.
 */
public final class HfModelWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A GGUF file's Llama 3 RoPE divisors, read into {@link ModelConfig#rope()}; Hugging Face has no such tensor. */
    private static final String ROPE_FREQS = "rope_freqs";

    private HfModelWriter() {}

    /** Writes the checkpoint at {@code source} (any format {@link Checkpoints#open} reads) as {@code dir}. */
    public static void write(Path source, Path dir, String dtype, int shards) throws IOException {
        write(source, dir, dtype, shards, null);
    }

    /**
     * As above, naming the Hugging Face architecture (e.g. MistralForCausalLM for Llama math); null names
     * the one of the checkpoint's architecture.
     */
    public static void write(Path source, Path dir, String dtype, int shards, String hfArchitecture)
            throws IOException {
        try (Checkpoint checkpoint = Checkpoints.open(source)) {
            write(checkpoint, dir, dtype, shards,
                    hfArchitecture != null ? hfArchitecture : hfArchitecture(checkpoint.config().architecture()));
        }
    }

    private static String hfArchitecture(String architecture) {
        return switch (architecture) {
            case "qwen2" -> "Qwen2ForCausalLM";
            case "qwen3" -> "Qwen3ForCausalLM";
            case "mistral" -> "MistralForCausalLM";
            default -> "LlamaForCausalLM";
        };
    }

    private static void write(Checkpoint source, Path dir, String dtype, int shards, String hfArchitecture)
            throws IOException {
        ModelConfig c = source.config();
        Files.createDirectories(dir);
        ObjectNode config = JSON.createObjectNode();
        config.putArray("architectures").add(hfArchitecture);
        config.put("hidden_size", c.dim()).put("intermediate_size", c.hiddenDim())
                .put("num_hidden_layers", c.numberOfLayers()).put("num_attention_heads", c.numberOfHeads())
                .put("num_key_value_heads", c.numberOfKeyValueHeads()).put("vocab_size", c.vocabularySize())
                .put("max_position_embeddings", c.contextLength()).put("rms_norm_eps", c.rmsNormEps())
                .put("rope_theta", c.rope().theta()).put("tie_word_embeddings", c.tiedEmbeddings())
                .put("hidden_act", "silu").put("head_dim", c.headDim())
                .put("torch_dtype", switch (dtype) { case "BF16" -> "bfloat16"; case "F16" -> "float16"; default -> "float32"; });
        if (c.attentionBias() && !c.architecture().equals("qwen2")) {
            config.put("attention_bias", true);
        }
        if (c.bosTokenId() >= 0) {
            config.put("bos_token_id", c.bosTokenId());
        }
        RopeConfig.Scaling scaling = c.rope().scaling();
        switch (scaling.type()) {
            case NONE -> { }
            case LINEAR -> config.putObject("rope_scaling").put("rope_type", "linear").put("factor", scaling.factor());
            case LLAMA3 -> config.putObject("rope_scaling").put("rope_type", "llama3").put("factor", scaling.factor())
                    .put("low_freq_factor", scaling.lowFrequencyFactor())
                    .put("high_freq_factor", scaling.highFrequencyFactor())
                    .put("original_max_position_embeddings", scaling.originalContextLength());
        }
        Files.writeString(dir.resolve("config.json"), config.toPrettyString());
        ObjectNode generation = JSON.createObjectNode();
        c.eosTokenIds().forEach(generation.putArray("eos_token_id")::add);
        Files.writeString(dir.resolve("generation_config.json"), generation.toPrettyString());

        Map<String, float[]> tensors = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        boolean permute = c.rope().layout() == io.streaminfer.model.RopeConfig.Layout.ADJACENT_PAIRS;
        for (String name : source.tensorNames()) {
            if (name.equals(ROPE_FREQS)) {
                continue; // GGUF's per-frequency divisors: config.json's rope_scaling says the same
            }
            WeightTensor t = source.tensor(name);
            float[] values = t.toFloats();
            if (permute && name.endsWith(".attn_q")) {
                values = toRotateHalf(values, c.numberOfHeads(), c.headDim(), t.cols());
            } else if (permute && name.endsWith(".attn_k")) {
                values = toRotateHalf(values, c.numberOfKeyValueHeads(), c.headDim(), t.cols());
            }
            String hfName = hfName(name);
            tensors.put(hfName, values);
            shapes.put(hfName, t.rows() == 1 && isVector(name) ? new int[] {t.cols()} : new int[] {t.rows(), t.cols()});
        }
        List<String> names = new ArrayList<>(tensors.keySet());
        if (shards == 1) {
            writeFile(dir.resolve("model.safetensors"), names, tensors, shapes, dtype);
            return;
        }
        ObjectNode index = JSON.createObjectNode();
        ObjectNode weightMap = index.putObject("weight_map");
        for (int s = 0; s < shards; s++) {
            String file = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
            List<String> part = names.subList(names.size() * s / shards, names.size() * (s + 1) / shards);
            writeFile(dir.resolve(file), part, tensors, shapes, dtype);
            part.forEach(n -> weightMap.put(n, file));
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.toPrettyString());
    }

    private static boolean isVector(String name) {
        return name.endsWith("_norm") || name.endsWith(".bias") || name.equals(TensorNames.OUTPUT_NORM);
    }

    private static float[] toRotateHalf(float[] rows, int heads, int headDim, int cols) {
        float[] out = new float[rows.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < headDim / 2; i++) {
                for (int j = 0; j < 2; j++) {
                    System.arraycopy(rows, (h * headDim + 2 * i + j) * cols, out,
                            (h * headDim + j * headDim / 2 + i) * cols, cols);
                }
            }
        }
        return out;
    }

    private static String hfName(String neutral) {
        switch (neutral) {
            case TensorNames.TOKEN_EMBEDDING: return "model.embed_tokens.weight";
            case TensorNames.OUTPUT_NORM: return "model.norm.weight";
            case TensorNames.OUTPUT: return "lm_head.weight";
            default:
                String[] parts = neutral.split("\\.", 3); // blk, N, name
                String layer = "model.layers." + parts[1] + ".";
                return layer + switch (parts[2]) {
                    case "attn_norm" -> "input_layernorm.weight";
                    case "attn_q" -> "self_attn.q_proj.weight";
                    case "attn_k" -> "self_attn.k_proj.weight";
                    case "attn_v" -> "self_attn.v_proj.weight";
                    case "attn_output" -> "self_attn.o_proj.weight";
                    case "ffn_norm" -> "post_attention_layernorm.weight";
                    case "ffn_gate" -> "mlp.gate_proj.weight";
                    case "ffn_up" -> "mlp.up_proj.weight";
                    case "ffn_down" -> "mlp.down_proj.weight";
                    case "attn_q.bias" -> "self_attn.q_proj.bias";
                    case "attn_k.bias" -> "self_attn.k_proj.bias";
                    case "attn_v.bias" -> "self_attn.v_proj.bias";
                    case "attn_q_norm" -> "self_attn.q_norm.weight";
                    case "attn_k_norm" -> "self_attn.k_norm.weight";
                    default -> throw new IllegalArgumentException("no Hugging Face name for " + neutral);
                };
        }
    }

    private static void writeFile(Path file, List<String> names, Map<String, float[]> tensors,
                                  Map<String, int[]> shapes, String dtype) throws IOException {
        int width = dtype.equals("F32") ? 4 : 2;
        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (String n : names) {
            ObjectNode info = header.putObject(n);
            info.put("dtype", dtype);
            int[] shape = shapes.get(n);
            for (int d : shape) {
                info.withArray("shape").add(d);
            }
            long bytes = (long) tensors.get(n).length * width;
            info.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            out.write(json);
            for (String n : names) {
                float[] v = tensors.get(n);
                ByteBuffer data = ByteBuffer.allocate(v.length * width).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : v) {
                    switch (dtype) {
                        case "F32" -> data.putFloat(f);
                        case "BF16" -> data.putShort(io.streaminfer.compute.Quantize.bf16(f));
                        default -> data.putShort(io.streaminfer.compute.Quantize.f16(f));
                    }
                }
                out.write(data.array());
            }
        }
    }
}
