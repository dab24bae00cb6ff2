package io.streaminfer.cuda;

import static io.streaminfer.cuda.GpuTestSupport.firstDifference;
import static io.streaminfer.cuda.GpuTestSupport.greedy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.cuda.GpuTestSupport.Rank;
import io.streaminfer.engine.BlockingReplica;
import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.engine.SamplingParams;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Llama2cCheckpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.SharedModelFiles;
import io.streaminfer.compute.StepBatch;
import io.streaminfer.model.SyntheticCheckpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA shard against the CPU one. Every test skips, naming the missing library, without a usable
 * CUDA stack (driver, device, cudart, cuBLAS, NVRTC, NCCL).
 */
class CudaShardGpuTest {
    private static final int[] STORIES_PROMPT = {1, 403, 407, 261, 378};   // BOS and a few story tokens
    /** bf16 vs fp32: a logit may move by at most this fraction of its row's range (max - min). */
    private static final float BF16_RELATIVE_TOLERANCE = 0.03f;

    @TempDir
    Path dir;

    @BeforeEach
    void requireCuda() {
        GpuTestSupport.requireCuda();
    }

    private Path syntheticGqa() throws Exception {
        Path file = dir.resolve("gqa-sep.bin");
        // GQA (8 heads over 2 KV heads), separate classifier
        SyntheticCheckpoint.write(file, ModelConfig.llama2c(128, 256, 3, 8, 2, 512, 128, false), 21);
        return file;
    }

    private static int[] greedyTokens(String backend, Checkpoint checkpoint, int[] prompt, int steps) {
        try (Rank rank = Rank.open(backend, checkpoint, 2, checkpoint.config().contextLength(), 64)) {
            return greedy(rank.shard(), checkpoint.config().vocabularySize(), prompt, steps, null, null);
        }
    }

    private static void assertSameGreedy(Checkpoint checkpoint, int[] prompt, int steps) {
        int[] cpu = greedyTokens("vector", checkpoint, prompt, steps);
        int[] gpu = greedyTokens("cuda", checkpoint, prompt, steps);
        int at = firstDifference(cpu, gpu);
        assertEquals(-1, at, () -> "fp32 CUDA greedy tokens leave the CPU backend's at step " + at);
        assertArrayEquals(cpu, gpu);
    }

    @Test
    void fp32GreedyTokensEqualTheCpuBackendOnStories260K() throws Exception {
        Path model = SharedModelFiles.require("stories260K.bin");
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(model)) {
            assertSameGreedy(checkpoint, STORIES_PROMPT, 200);
        }
    }

    @Test
    void fp32GreedyTokensEqualTheCpuBackendOnASyntheticGqaModel() throws Exception {
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(syntheticGqa())) {
            assertSameGreedy(checkpoint, new int[] {1, 17, 99, 250, 3, 480}, 100);
        }
    }

    @Test
    void bf16AgreesWithFp32OverALongGeneration() throws Exception {
        Path model = SharedModelFiles.require("stories260K.bin");
        int steps = 400;
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(model)) {
            int vocab = checkpoint.config().vocabularySize();
            float[][] fp32Logits = new float[steps][];
            float[][] bf16Logits = new float[steps][];
            int[] fp32;
            try (Rank rank = Rank.open("cuda", checkpoint, 1, checkpoint.config().contextLength(), 16)) {
                fp32 = greedy(rank.shard(), vocab, STORIES_PROMPT, steps, null, fp32Logits);
            }
            int[] bf16;
            try (Rank rank = Rank.open("cuda:precision=bf16", checkpoint, 1, checkpoint.config().contextLength(), 16)) {
                // fed fp32's tokens, so one disagreement does not derail the rest of the comparison
                bf16 = greedy(rank.shard(), vocab, STORIES_PROMPT, steps, fp32, bf16Logits);
            }
            int agree = 0;
            float worst = 0;
            for (int s = 0; s < steps; s++) {
                if (fp32[s] == bf16[s]) {
                    agree++;
                }
                float min = Float.MAX_VALUE;
                float max = -Float.MAX_VALUE;
                float diff = 0;
                for (int v = 0; v < vocab; v++) {
                    min = Math.min(min, fp32Logits[s][v]);
                    max = Math.max(max, fp32Logits[s][v]);
                    diff = Math.max(diff, Math.abs(fp32Logits[s][v] - bf16Logits[s][v]));
                }
                worst = Math.max(worst, diff / (max - min));
            }
            float worstRelative = worst;
            int agreed = agree;
            assertTrue(agree >= 0.99 * steps, () -> "bf16 greedy agrees with fp32 on " + agreed + " of " + steps);
            assertTrue(worstRelative <= BF16_RELATIVE_TOLERANCE, () -> "a bf16 logit moved by " + worstRelative
                    + " of its row's range (tolerance " + BF16_RELATIVE_TOLERANCE + ")");
        }
    }

    @Test
    void batchedRowsMatchRowsAlone() throws Exception {
        // Rows of other sequences in the same step change nothing beyond GEMM rounding: greedy tokens agree.
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(syntheticGqa());
             Rank rank = Rank.open("cuda", checkpoint, 4, 128, 64)) {
            int vocab = checkpoint.config().vocabularySize();
            int[] alone = greedy(rank.shard(), vocab, new int[] {1, 5, 6, 7}, 30, null, null);
            // the same prompt in slot 3 next to three other sequences, one row each per step
            int[] tokens = {1, 5, 6, 7};
            float[] logits = new float[4 * vocab];
            int[] generated = new int[30];
            int[] last = new int[4];
            for (int p = 0; p < 4 + 29; p++) {
                int[] slots = {0, 1, 2, 3};
                int[] positions = {p, p, p, p};
                int[] in = new int[4];
                for (int s = 0; s < 4; s++) {
                    in[s] = p < 4 ? (s == 3 ? tokens[p] : 10 + 7 * s + p) : last[s];
                }
                rank.shard().forward(new StepBatch(slots, positions, in, new boolean[] {true, true, true, true}),
                        logits);
                for (int s = 0; s < 4; s++) {
                    float[] row = java.util.Arrays.copyOfRange(logits, s * vocab, (s + 1) * vocab);
                    last[s] = GpuTestSupport.argmax(row);
                }
                if (p >= 3) {
                    generated[p - 3] = last[3];
                }
            }
            assertArrayEquals(alone, generated);
        }
    }

    @Test
    void badTokenIsRefusedWithItsId() throws Exception {
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(syntheticGqa());
             Rank rank = Rank.open("cuda", checkpoint, 1, 16, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> rank.shard().forward(
                    new StepBatch(new int[] {0}, new int[] {0}, new int[] {512}, new boolean[] {true}), new float[512]));
            assertTrue(e.getMessage().contains("512"), e.getMessage());
        }
    }

    @Test
    void tooLargeAKvCacheIsRefusedWithTheNumbers() throws Exception {
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(syntheticGqa())) {
            // 128 positions x 2 KV heads x 16 floats x 3 layers x K,V: 2 million slots need ~ 190 GiB
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Rank.open("cuda", checkpoint, 2_000_000, 128, 4));
            assertTrue(e.getMessage().contains("does not fit") && e.getMessage().contains("MiB are free"),
                    e.getMessage());
        }
    }

    @Test
    void replicaOnCudaGivesTheCpuTokensAtTp1AndTp2() throws Exception {
        Path model = syntheticGqa();
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            requests.add(new GenerationRequest("r" + i, null, new int[] {1, 3 + i, 40 + 2 * i, 77}, null,
                    SamplingParams.greedy(24)));
        }
        ReplicaConfig base = ReplicaConfig.defaults(model.toString(), null, 1).withBatch(4, 32)
                .withCollectiveTimeout(Duration.ofSeconds(30));
        Map<String, GenerationResult> cpu = run(base, requests);
        assertSameTokens(cpu, run(base.withBackend("cuda", 1), requests), "cuda TP=1");
        Assumptions.assumeTrue(CudaSupport.deviceCount() >= 2, "skipped TP=2: needs 2 CUDA devices");
        ReplicaConfig tp2 = ReplicaConfig.defaults(model.toString(), null, 2).withBatch(4, 32)
                .withCollectiveTimeout(Duration.ofSeconds(30)).withBackend("cuda", 1);
        assertSameTokens(cpu, run(tp2, requests), "cuda TP=2");
    }

    private static Map<String, GenerationResult> run(ReplicaConfig config, List<GenerationRequest> requests)
            throws Exception {
        try (BlockingReplica replica = new BlockingReplica(config, Duration.ofMinutes(2))) {
            return replica.run(requests);
        }
    }

    private static void assertSameTokens(Map<String, GenerationResult> expected, Map<String, GenerationResult> actual,
                                         String what) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String id : expected.keySet()) {
            GenerationResult e = expected.get(id);
            GenerationResult a = actual.get(id);
            assertTrue(e.ok() && a.ok(), () -> id + ": " + e.error() + " / " + a.error());
            assertArrayEquals(e.tokenIds(), a.tokenIds(), what + ": greedy tokens of " + id);
        }
    }
}
