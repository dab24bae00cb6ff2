package io.streaminfer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.compute.StepBatch;
import io.streaminfer.engine.TensorParallelGroup;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The one forward pass on the architecture flags the llama2.c format cannot express: an explicit head_dim
 * (heads * head_dim != dim, as Qwen3), q/k/v biases (Qwen2), per-head q/k RMSNorm (Qwen3), rotate-half
 * RoPE and GQA. Logits must be bitwise the same at TP 1 and 2, alone or batched, on the scalar and vector
 * kernels; and each flag must change them.
 */
class TransformerShardTest {
    private static final int VOCAB = 64;

    private static ModelConfig.Builder base() {
        return ModelConfig.builder().architecture("qwen3").dim(48).hiddenDim(64).layers(2).heads(4).kvHeads(2)
                .headDim(16).vocabularySize(VOCAB).contextLength(16).rmsNormEps(1e-6f)
                .rope(RopeConfig.plain(RopeConfig.Layout.ROTATE_HALF, 1_000_000f)).tiedEmbeddings(false);
    }

    /** Prompt [3, 9, 27, 50, 11] then its greedy continuation, one logits row per position. */
    private static List<float[]> run(ModelConfig config, int tp, String kernel, boolean batched) throws Exception {
        return ShardRunner.withGroup(new InMemoryCheckpoint(config, 5), tp, kernel, 2, 16, 8, g -> steps(g, batched));
    }

    /** On the driver thread: the prompt, then greedy decoding, one logits row per position of slot 0. */
    private static List<float[]> steps(TensorParallelGroup group, boolean batched) {
        List<float[]> rows = new ArrayList<>();
        int[] prompt = {3, 9, 27, 50, 11};
        {
            // slot 1 holds an unrelated sequence when batched: its rows must not change slot 0's bits
            if (batched) {
                float[] logits = new float[(prompt.length + 2) * VOCAB];
                group.step(new StepBatch(new int[] {1, 0, 0, 0, 0, 0, 1}, new int[] {0, 0, 1, 2, 3, 4, 1},
                        new int[] {7, 3, 9, 27, 50, 11, 8}, new boolean[] {true, true, true, true, true, true, true}),
                        logits);
                for (int r = 1; r <= prompt.length; r++) {
                    rows.add(java.util.Arrays.copyOfRange(logits, r * VOCAB, (r + 1) * VOCAB));
                }
            } else {
                for (int p = 0; p < prompt.length; p++) {
                    float[] logits = new float[VOCAB];
                    group.step(new StepBatch(new int[] {0}, new int[] {p}, new int[] {prompt[p]}, new boolean[] {true}),
                            logits);
                    rows.add(logits);
                }
            }
            int token = ShardRunner.argmax(rows.get(rows.size() - 1));
            for (int p = prompt.length; p < 12; p++) {
                float[] logits = new float[2 * VOCAB];
                if (batched) {
                    group.step(new StepBatch(new int[] {0, 1}, new int[] {p, p - 3}, new int[] {token, 5},
                            new boolean[] {true, true}), logits);
                } else {
                    group.step(new StepBatch(new int[] {0}, new int[] {p}, new int[] {token}, new boolean[] {true}),
                            logits);
                }
                float[] row = java.util.Arrays.copyOf(logits, VOCAB);
                rows.add(row);
                token = ShardRunner.argmax(row);
            }
        }
        return rows;
    }

    private static void assertSameRows(List<float[]> expected, List<float[]> actual, String what) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), what + ": logits of position " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "qkv-bias", "qk-norm", "both"})
    void logitsAreBitwiseTheSameAtEveryTpDegreeAloneOrBatched(String flags) throws Exception {
        ModelConfig config = base().attentionBias(!flags.equals("plain") && !flags.equals("qk-norm"))
                .queryKeyNorm(flags.equals("qk-norm") || flags.equals("both")).build();
        assertEquals(64, config.queryDim(), "heads * head_dim differs from dim");
        List<float[]> reference = run(config, 1, "scalar", false);
        assertSameRows(reference, run(config, 1, "vector", false), "vector kernel");
        assertSameRows(reference, run(config, 2, "vector", false), "TP=2");
        assertSameRows(reference, run(config, 1, "vector", true), "batched");
        assertSameRows(reference, run(config, 2, "vector", true), "TP=2, batched");
    }

    @Test
    void biasesAndQueryKeyNormsChangeTheLogits() throws Exception {
        List<float[]> plain = run(base().build(), 1, "vector", false);
        List<float[]> biased = run(base().attentionBias(true).build(), 1, "vector", false);
        List<float[]> normed = run(base().queryKeyNorm(true).build(), 1, "vector", false);
        assertFalse(java.util.Arrays.equals(plain.get(0), biased.get(0)), "the q/k/v bias is applied");
        assertFalse(java.util.Arrays.equals(plain.get(1), normed.get(1)), "the q/k norm is applied");
        for (float v : normed.get(4)) {
            assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void aCheckpointWithoutATensorTheConfigNeedsIsRefusedNamingIt() {
        InMemoryCheckpoint plain = new InMemoryCheckpoint(base().build(), 1);
        Checkpoint claimsBias = new Checkpoint() {
            @Override public ModelConfig config() { return base().attentionBias(true).build(); }
            @Override public boolean contains(String name) { return plain.contains(name); }
            @Override public io.streaminfer.compute.WeightTensor tensor(String name) { return plain.tensor(name); }
            @Override public List<String> tensorNames() { return plain.tensorNames(); }
            @Override public void close() { }
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TensorNames.requirePresent(claimsBias, "model.safetensors"));
        assertEquals("model.safetensors: tensor blk.0.attn_q.bias is missing (and 5 more)", e.getMessage());
    }
}
