package io.streaminfer.model.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.compute.StorageKind;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.GoldenIds;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.RopeConfig;
import io.streaminfer.model.ShardRunner;
import io.streaminfer.model.SharedModelFiles;
import io.streaminfer.model.TensorNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hugging Face model directories: config.json, (sharded) safetensors, rotate-half RoPE. */
class HfCheckpointTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "stories260K as a Hugging Face directory at TP={0} gives run.c's greedy tokens")
    @ValueSource(ints = {1, 2})
    void stories260kConvertedToHuggingFaceGivesRunCsTokens(int tp) throws Exception {
        int[][] golden = GoldenIds.load("stories260K_once_upon_a_time_t0_n256.ids");
        Path hf = dir.resolve("stories260K-hf");
        HfModelWriter.write(SharedModelFiles.require("stories260K.bin"), hf, "F32", 2);
        try (Checkpoint checkpoint = Checkpoints.open(hf)) {
            ModelConfig c = checkpoint.config();
            assertEquals(RopeConfig.Layout.ROTATE_HALF, c.rope().layout());
            assertEquals("llama", c.architecture());
            assertTrue(c.tiedEmbeddings());
            int[] generated = ShardRunner.greedy(checkpoint, tp, "vector", golden[0], 256, 1, 2);
            assertArrayEquals(golden[1], generated);
        }
    }

    @Test
    void bf16WeightsAreReadInPlaceAndStayCloseToFp32() throws Exception {
        Path hf = dir.resolve("bf16");
        HfModelWriter.write(SharedModelFiles.require("stories260K.bin"), hf, "BF16", 1);
        int[][] golden = GoldenIds.load("stories260K_once_upon_a_time_t0_n256.ids");
        try (Checkpoint checkpoint = Checkpoints.open(hf)) {
            assertEquals(StorageKind.BF16, checkpoint.tensor(TensorNames.query(0)).kind());
            assertEquals(2L * 64 * 64, checkpoint.tensor(TensorNames.query(0)).bytes(), "2 bytes per weight, in place");
            int[] generated = ShardRunner.greedy(checkpoint, 1, "vector", golden[0], 40, 1, 2);
            int same = 0;
            while (same < generated.length && generated[same] == golden[1][same]) {
                same++;
            }
            assertTrue(same >= 10, "bf16 rounding of a 260K model keeps the first greedy tokens: " + same);
        }
    }

    @Test
    void configKeysOfEachArchitectureBecomeItsFlags() throws IOException {
        Path qwen3 = Files.createDirectories(dir.resolve("qwen3"));
        Files.writeString(qwen3.resolve("config.json"), """
                {"architectures": ["Qwen3ForCausalLM"], "hidden_size": 1024, "intermediate_size": 3072,
                 "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
                 "vocab_size": 151936, "max_position_embeddings": 40960, "rms_norm_eps": 1e-06,
                 "rope_theta": 1000000, "tie_word_embeddings": true, "bos_token_id": 151643,
                 "eos_token_id": 151645, "hidden_act": "silu", "attention_bias": false}""");
        Files.writeString(qwen3.resolve("generation_config.json"), "{\"eos_token_id\": [151645, 151643]}");
        ModelConfig q = HfConfig.read(qwen3);
        assertEquals(128, q.headDim());
        assertEquals(2048, q.queryDim(), "16 heads of 128 is wider than hidden_size");
        assertTrue(q.queryKeyNorm());
        assertEquals(java.util.List.of(151645, 151643), q.eosTokenIds());
        assertEquals(1_000_000f, q.rope().theta());

        Path llama31 = Files.createDirectories(dir.resolve("llama31"));
        Files.writeString(llama31.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 2048, "intermediate_size": 8192,
                 "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
                 "vocab_size": 128256, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05,
                 "rope_theta": 500000.0, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0,
                 "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},
                 "eos_token_id": [128001, 128008, 128009], "bos_token_id": 128000}""");
        ModelConfig l = HfConfig.read(llama31);
        assertEquals(RopeConfig.Scaling.llama3(32f, 1f, 4f, 8192), l.rope().scaling());
        assertEquals(64, l.headDim());
        assertEquals(3, l.eosTokenIds().size());

        Path qwen2 = Files.createDirectories(dir.resolve("qwen2"));
        Files.writeString(qwen2.resolve("config.json"), """
                {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 896, "intermediate_size": 4864,
                 "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
                 "vocab_size": 151936, "max_position_embeddings": 32768, "rope_theta": 1000000.0,
                 "tie_word_embeddings": true}""");
        assertTrue(HfConfig.read(qwen2).attentionBias(), "Qwen2 always has q/k/v biases");
    }

    @Test
    void unsupportedArchitecturesAndMissingWeightsAreRefusedByName() throws IOException {
        Path gemma = Files.createDirectories(dir.resolve("gemma"));
        Files.writeString(gemma.resolve("config.json"), "{\"architectures\": [\"GemmaForCausalLM\"]}");
        IOException e = assertThrows(IOException.class, () -> Checkpoints.open(gemma));
        assertTrue(e.getMessage().contains("architecture GemmaForCausalLM is not supported"), e.getMessage());

        Path noWeights = Files.createDirectories(dir.resolve("empty"));
        Files.writeString(noWeights.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 8, "intermediate_size": 16,
                 "num_hidden_layers": 1, "num_attention_heads": 2, "vocab_size": 16, "max_position_embeddings": 8}""");
        e = assertThrows(IOException.class, () -> Checkpoints.open(noWeights));
        assertTrue(e.getMessage().contains("no model.safetensors"), e.getMessage());
    }
}
