package io.streaminfer.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.compute.StorageKind;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.RopeConfig;
import io.streaminfer.model.ShardRunner;
import io.streaminfer.model.TensorNames;
import io.streaminfer.model.gguf.GgufGoldens.Greedy;
import io.streaminfer.model.hf.HfModelWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A tiny random Llama-3.1-style model (tiny-llama3.f16.gguf, made by src/test/goldens/gguf/tiny_llama3_gguf.py)
 * against llama.cpp's greedy tokens: architecture llama with adjacent-pair RoPE, 8 heads over 2 KV heads,
 * head_dim 16, untied output, theta 500000, and Llama 3.1's frequency scaling as a {@code rope_freqs} tensor
 * (factor 8, low_freq_factor 1, high_freq_factor 4, original context 64). The same weights as a Hugging Face
 * LlamaForCausalLM directory (rotate-half q/k, {@code rope_scaling} llama3 in config.json) give the same tokens.
 */
class Llama3RopeScalingGreedyTest {
    private static final String FILE = "tiny-llama3.f16.gguf";
    private static final int EOS = 2;
    /** Below this top-two margin, summation order alone may flip the argmax. */
    private static final double CLOSE_CALL = 0.003;
    private static final float THETA = 500000f;
    private static final RopeConfig.Scaling SCALING = RopeConfig.Scaling.llama3(8f, 1f, 4f, 64);

    @TempDir
    Path dir;

    /**
     * The rope_freqs tensor becomes Llama 3's rule with the script's parameters, and at head_dim 16 that rule
     * changes most frequencies: pair 0 (wavelength 6.3) is kept, pair 1 (32.4) lies in the smoothing band,
     * pairs 2..7 (above 64) are divided by 8.
     */
    @Test
    void ropeFreqsBecomeTheLlama3ScalingOfTheScript() throws Exception {
        try (Checkpoint checkpoint = Checkpoints.open(GgufGoldens.file(FILE))) {
            ModelConfig c = checkpoint.config();
            assertEquals("llama", c.architecture());
            assertEquals(new RopeConfig(RopeConfig.Layout.ADJACENT_PAIRS, THETA, SCALING), c.rope());
            assertEquals(8, c.numberOfHeads());
            assertEquals(2, c.numberOfKeyValueHeads());
            assertEquals(16, c.headDim());
            assertFalse(c.tiedEmbeddings());
            assertEquals(StorageKind.F16, checkpoint.tensor(TensorNames.query(0)).kind());
            assertEquals(StorageKind.F16, checkpoint.tensor(TensorNames.OUTPUT).kind());
            float[] divisors = checkpoint.tensor("rope_freqs").toFloats();
            int kept = 0;
            int band = 0;
            int divided = 0;
            for (int i = 0; i < c.headDim() / 2; i++) {
                double frequency = 1.0 / Math.pow(THETA, 2.0 * i / c.headDim());
                double divisor = frequency / SCALING.apply(frequency);
                assertEquals(divisors[i], divisor, 1e-4 * divisor, "pair " + i);
                if (Math.abs(divisor - 1) < 1e-6) {
                    kept++;
                } else if (Math.abs(divisor - 8) < 1e-6) {
                    divided++;
                } else {
                    band++;
                }
            }
            assertArrayEquals(new int[] {1, 1, 6}, new int[] {kept, band, divided});
        }
    }

    @ParameterizedTest(name = "tiny-llama3.f16.gguf at TP={0} agrees with llama.cpp")
    @ValueSource(ints = {1, 2})
    void ggufAgreesWithLlamaCpp(int tp) throws Exception {
        Greedy golden = GgufGoldens.greedy("tiny-llama3.f16.greedy.json");
        assertEquals(120, golden.ids().length);
        try (Checkpoint checkpoint = Checkpoints.open(GgufGoldens.file(FILE))) {
            assertEquals(SCALING, checkpoint.config().rope().scaling());
            check("GGUF TP=" + tp, ShardRunner.greedy(checkpoint, tp, "vector", golden.promptIds(),
                    golden.promptIds().length + 119, EOS), golden);
        }
    }

    @ParameterizedTest(name = "tiny-llama3 as a LlamaForCausalLM directory at TP={0} agrees with llama.cpp")
    @ValueSource(ints = {1, 2})
    void huggingFaceDirectoryAgreesWithLlamaCpp(int tp) throws Exception {
        Greedy golden = GgufGoldens.greedy("tiny-llama3.f16.greedy.json");
        Path hf = dir.resolve("llama3");
        HfModelWriter.write(GgufGoldens.file(FILE), hf, "F16", 1);
        try (Checkpoint checkpoint = Checkpoints.open(hf)) {
            ModelConfig c = checkpoint.config();
            assertEquals("llama", c.architecture());
            assertEquals(new RopeConfig(RopeConfig.Layout.ROTATE_HALF, THETA, SCALING), c.rope());
            assertEquals(2, c.numberOfKeyValueHeads());
            assertFalse(c.tiedEmbeddings());
            assertEquals(StorageKind.F16, checkpoint.tensor(TensorNames.query(0)).kind());
            check("Hugging Face TP=" + tp, ShardRunner.greedy(checkpoint, tp, "vector", golden.promptIds(),
                    golden.promptIds().length + 119, EOS), golden);
        }
    }

    private static void check(String what, int[] ours, Greedy golden) {
        int same = GgufGoldens.commonPrefix(ours, golden.ids());
        int firstClose = golden.firstStepWithMarginBelow(CLOSE_CALL);
        System.out.printf("tiny-llama3 %s vs llama.cpp: %d of %d tokens equal%s; first margin < %.3f at step %d%n",
                what, same, golden.ids().length,
                same < golden.ids().length ? " (llama.cpp's margin at the divergence " + golden.margins()[same] + ")" : "",
                CLOSE_CALL, firstClose);
        assertTrue(same == 120 || same >= firstClose, what + ": " + same + " tokens agree with llama.cpp");
    }
}
