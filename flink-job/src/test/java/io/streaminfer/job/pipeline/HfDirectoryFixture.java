package io.streaminfer.job.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streaminfer.compute.WeightTensor;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.TensorNames;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A llama2.c checkpoint rewritten as a Hugging Face model directory (test data for the job; gpu-operator's
 * HfModelWriter does the same for its tests, and the modules share no test classes): config.json
 * (LlamaForCausalLM), generation_config.json with the checkpoint's EOS ids, and one F32 model.safetensors, its
 * queries and keys permuted from adjacent-pair to rotate-half RoPE (HF row h*hd + j*hd/2 + i is row
 * h*hd + 2i + j), so the directory runs the same model. The tokenizer files are the caller's.
 */
final class HfDirectoryFixture {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> LAYER_NAMES = Map.of(
            "attn_norm", "input_layernorm.weight", "attn_q", "self_attn.q_proj.weight",
            "attn_k", "self_attn.k_proj.weight", "attn_v", "self_attn.v_proj.weight",
            "attn_output", "self_attn.o_proj.weight", "ffn_norm", "post_attention_layernorm.weight",
            "ffn_gate", "mlp.gate_proj.weight", "ffn_up", "mlp.up_proj.weight", "ffn_down", "mlp.down_proj.weight");

    private HfDirectoryFixture() {}

    static Path write(Path llama2c, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (Checkpoint checkpoint = Checkpoints.open(llama2c)) {
            ModelConfig c = checkpoint.config();
            ObjectNode config = JSON.createObjectNode();
            config.putArray("architectures").add("LlamaForCausalLM");
            config.put("hidden_size", c.dim()).put("intermediate_size", c.hiddenDim())
                    .put("num_hidden_layers", c.numberOfLayers()).put("num_attention_heads", c.numberOfHeads())
                    .put("num_key_value_heads", c.numberOfKeyValueHeads()).put("vocab_size", c.vocabularySize())
                    .put("max_position_embeddings", c.contextLength()).put("rms_norm_eps", c.rmsNormEps())
                    .put("rope_theta", c.rope().theta()).put("tie_word_embeddings", c.tiedEmbeddings())
                    .put("hidden_act", "silu").put("torch_dtype", "float32");
            JSON.writeValue(dir.resolve("config.json").toFile(), config);
            ObjectNode generation = JSON.createObjectNode();
            c.eosTokenIds().forEach(generation.putArray("eos_token_id")::add);
            JSON.writeValue(dir.resolve("generation_config.json").toFile(), generation);

            Map<String, WeightTensor> tensors = new LinkedHashMap<>();
            for (String name : checkpoint.tensorNames()) {
                tensors.put(name, checkpoint.tensor(name));
            }
            writeSafetensors(dir.resolve("model.safetensors"), tensors, c);
        }
        return dir;
    }

    private static String hfName(String neutral) {
        return switch (neutral) {
            case TensorNames.TOKEN_EMBEDDING -> "model.embed_tokens.weight";
            case TensorNames.OUTPUT_NORM -> "model.norm.weight";
            case TensorNames.OUTPUT -> "lm_head.weight";
            default -> {
                String[] parts = neutral.split("\\.", 3); // blk, N, name
                yield "model.layers." + parts[1] + "." + LAYER_NAMES.get(parts[2]);
            }
        };
    }

    private static void writeSafetensors(Path file, Map<String, WeightTensor> tensors, ModelConfig c) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        Map<String, float[]> data = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, WeightTensor> e : tensors.entrySet()) {
            WeightTensor t = e.getValue();
            float[] values = t.toFloats();
            if (e.getKey().endsWith(".attn_q")) {
                values = toRotateHalf(values, c.numberOfHeads(), c.headDim(), t.cols());
            } else if (e.getKey().endsWith(".attn_k")) {
                values = toRotateHalf(values, c.numberOfKeyValueHeads(), c.headDim(), t.cols());
            }
            String name = hfName(e.getKey());
            data.put(name, values);
            ObjectNode info = header.putObject(name);
            info.put("dtype", "F32");
            boolean vector = e.getKey().endsWith("_norm") || e.getKey().equals(TensorNames.OUTPUT_NORM);
            if (vector) {
                info.putArray("shape").add(t.cols());
            } else {
                info.putArray("shape").add(t.rows()).add(t.cols());
            }
            info.putArray("data_offsets").add(offset).add(offset + 4L * values.length);
            offset += 4L * values.length;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            out.write(json);
            for (float[] values : data.values()) {
                ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(values);
                out.write(bytes.array());
            }
        }
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
}
