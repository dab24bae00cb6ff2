package io.streaminfer.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.compute.StorageKind;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.GoldenIds;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.RopeConfig;
import io.streaminfer.model.ShardRunner;
import io.streaminfer.model.TensorNames;
import io.streaminfer.model.gguf.GgufGoldens.Greedy;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GGUF files run end to end with the vector kernel: stories260K converted by llama.cpp gives run.c's greedy
 * tokens, and its quantized files agree with llama.cpp (see src/test/resources/gguf/README.md for how close
 * each oracle is expected to be, and why).
 */
class GgufGreedyTest {
    /** llama.cpp's greedy runs stop on its end-of-generation ids: here EOS (2) only, not BOS. */
    private static final int EOS = 2;
    /** Below this top-two margin, fp32 summation order alone may flip the argmax. */
    private static final double CLOSE_CALL = 0.003;

    @ParameterizedTest(name = "stories260K.f32.gguf at TP={0} gives run.c's 252 greedy tokens")
    @ValueSource(ints = {1, 2})
    void theF32ConversionGivesRunCsGreedyTokens(int tp) throws Exception {
        int[][] golden = GoldenIds.load("stories260K_once_upon_a_time_t0_n256.ids");
        try (Checkpoint checkpoint = Checkpoints.open(GgufGoldens.file("stories260K.f32.gguf"))) {
            ModelConfig c = checkpoint.config();
            assertEquals(RopeConfig.Layout.ADJACENT_PAIRS, c.rope().layout());
            assertEquals(GgufConfig.LLAMA2C_CONVERTED_CONTEXT, c.contextLength(), "not the converter's 128");
            assertEquals(StorageKind.F32, checkpoint.tensor(TensorNames.query(0)).kind());
            int[] generated = ShardRunner.greedy(checkpoint, tp, "vector", golden[0], 256, 1, 2);
            assertArrayEquals(golden[1], generated);
        }
        Greedy llamaCpp = GgufGoldens.greedy("stories260K.f32.greedy.json");
        assertArrayEquals(golden[0], llamaCpp.promptIds());
        assertArrayEquals(Arrays.copyOf(golden[1], 120), llamaCpp.ids(), "llama.cpp on the same file agrees with run.c");
    }

    /**
     * The quantized files against both oracles: llama.cpp's own quantized run (which also rounds activations
     * to 8 bits, and to f16 for the F16 ffn_down) must agree for 110 of 120 tokens or up to its first close
     * call; llama.cpp on the dequantized weights (the exact oracle of a dequantize-then-fp32 engine) must agree
     * on every token up to its first close call.
     */
    @ParameterizedTest(name = "stories260K.{0}.gguf at TP={1} agrees with llama.cpp")
    @CsvSource({"q8_0, 1", "q8_0, 2", "q4_0, 1", "q4_0, 2"})
    void quantizedFilesAgreeWithLlamaCpp(String type, int tp) throws Exception {
        String name = "stories260K." + type;
        Greedy quantized = GgufGoldens.greedy(name + ".greedy.json");
        Greedy dequantized = GgufGoldens.greedy(name + ".dequantized.greedy.json");
        try (Checkpoint checkpoint = Checkpoints.open(GgufGoldens.file(name + ".gguf"))) {
            assertEquals(StorageKind.valueOf(type.toUpperCase()), checkpoint.tensor(TensorNames.query(0)).kind());
            assertEquals(StorageKind.F16, checkpoint.tensor(TensorNames.ffnDown(0)).kind(), "172 columns stay F16");
            assertEquals(GgufConfig.LLAMA2C_CONVERTED_CONTEXT, checkpoint.config().contextLength(),
                    "llama-quantize keeps the converter's signature");
            int[] prompt = quantized.promptIds();
            int[] ours = ShardRunner.greedy(checkpoint, tp, "vector", prompt, prompt.length + 119, EOS);
            assertEquals(120, ours.length);
            report(name + " TP=" + tp, ours, quantized, "llama.cpp quantized");
            report(name + " TP=" + tp, ours, dequantized, "llama.cpp on the dequantized weights");
            int withQuantized = GgufGoldens.commonPrefix(ours, quantized.ids());
            assertTrue(withQuantized >= 110 || withQuantized >= quantized.firstStepWithMarginBelow(CLOSE_CALL),
                    name + ": " + withQuantized + " tokens agree with llama.cpp's quantized run");
            int withDequantized = GgufGoldens.commonPrefix(ours, dequantized.ids());
            assertTrue(withDequantized == 120 || withDequantized >= dequantized.firstStepWithMarginBelow(CLOSE_CALL),
                    name + ": " + withDequantized + " tokens agree with llama.cpp on the dequantized weights");
        }
    }

    @Test
    void kQuantsAgreeWithLlamaCppOnTheDequantizedWeights() throws Exception {
        Greedy dequantized = GgufGoldens.greedy("synthetic256.q4_k_m.dequantized.greedy.json");
        try (Checkpoint checkpoint = Checkpoints.open(GgufGoldens.file("synthetic256.q4_k_m.gguf"))) {
            assertEquals(StorageKind.Q4_K, checkpoint.tensor(TensorNames.query(0)).kind());
            assertEquals(StorageKind.Q6_K, checkpoint.tensor(TensorNames.ffnDown(0)).kind());
            assertEquals(StorageKind.Q6_K, checkpoint.tensor(TensorNames.OUTPUT).kind());
            // TP=1 only: a row-parallel shard of a 256-column layer would split its one 256-element super-block.
            int[] prompt = dequantized.promptIds();
            int[] ours = ShardRunner.greedy(checkpoint, 1, "vector", prompt, prompt.length + 119, EOS);
            report("synthetic256.q4_k_m TP=1", ours, dequantized, "llama.cpp on the dequantized weights");
            assertEquals("eog", dequantized.stop());
            assertArrayEquals(dequantized.ids(), ours, "every token, and the EOS that ends the run");
        }
    }

    /**
     * Each architecture's flags against llama.cpp: qwen2's q/k/v biases, qwen3's q/k norms and head_dim of 32
     * (wider than dim / heads = 16), both with rotate-half RoPE at theta 1e6, grouped-query attention and
     * tied embeddings.
     */
    @ParameterizedTest(name = "tiny-{0}.f16.gguf at TP={1} agrees with llama.cpp")
    @CsvSource({"qwen2, 1", "qwen2, 2", "qwen3, 1", "qwen3, 2"})
    void qwenArchitecturesAgreeWithLlamaCpp(String arch, int tp) throws Exception {
        Greedy golden = GgufGoldens.greedy("tiny-" + arch + ".f16.greedy.json");
        try (Checkpoint checkpoint = Checkpoints.open(GgufGoldens.file("tiny-" + arch + ".f16.gguf"))) {
            ModelConfig c = checkpoint.config();
            assertEquals(arch, c.architecture());
            assertEquals(RopeConfig.plain(RopeConfig.Layout.ROTATE_HALF, 1e6f), c.rope());
            assertEquals(arch.equals("qwen2"), c.attentionBias());
            assertEquals(arch.equals("qwen3"), c.queryKeyNorm());
            assertEquals(arch.equals("qwen3") ? 32 : 16, c.headDim());
            assertEquals(2, c.numberOfKeyValueHeads());
            assertTrue(c.tiedEmbeddings());
            assertEquals(StorageKind.F16, checkpoint.tensor(TensorNames.query(0)).kind());
            int[] prompt = golden.promptIds();
            int[] ours = ShardRunner.greedy(checkpoint, tp, "vector", prompt, prompt.length + 119, EOS);
            report("tiny-" + arch + " TP=" + tp, ours, golden, "llama.cpp");
            int same = GgufGoldens.commonPrefix(ours, golden.ids());
            assertTrue(same == 120 || same >= golden.firstStepWithMarginBelow(CLOSE_CALL),
                    arch + ": " + same + " tokens agree with llama.cpp");
        }
    }

    private static void report(String what, int[] ours, Greedy golden, String oracle) {
        int same = GgufGoldens.commonPrefix(ours, golden.ids());
        String at = same < Math.min(ours.length, golden.ids().length)
                ? "first divergence at step " + same + " (llama.cpp's margin there " + golden.margins()[same] + ")"
                : "no divergence";
        System.out.printf("%s vs %s: %d of %d tokens equal; %s; first margin < %.3f at step %d%n", what, oracle, same,
                golden.ids().length, at, CLOSE_CALL, golden.firstStepWithMarginBelow(CLOSE_CALL));
    }
}
