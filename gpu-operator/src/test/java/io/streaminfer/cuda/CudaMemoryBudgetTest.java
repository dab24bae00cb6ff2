package io.streaminfer.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import org.junit.jupiter.api.Test;

class CudaMemoryBudgetTest {
    private static final ModelConfig STORIES15M = ModelConfig.llama2c(288, 768, 6, 6, 6, 32000, 256, true);
    private static final ModelConfig ONE_B = ModelConfig.llama2c(2048, 5632, 16, 32, 8, 32000, 2048, false);

    /** Matrix parameters of every layer together (wq, wk, wv, wo, w1, w2, w3). */
    private static long layerMatrices(ModelConfig c) {
        return c.numberOfLayers() * ((long) c.dim() * c.dim() * 2 + 2L * c.dim() * c.kvDim()
                + 3L * c.dim() * c.hiddenDim());
    }

    @Test
    void fp32SingleRankHoldsEveryParameterOnce() {
        // shared classifier: read from the embedding, so the bytes are exactly the parameters
        CudaMemoryBudget b = CudaMemoryBudget.of(new ShardSpec(0, 1, STORIES15M), CudaPrecision.FP32, 1, 1, 1);
        assertEquals(STORIES15M.parameterCount() * 4, b.weightBytes());
    }

    @Test
    void bf16HalvesTheMatricesAndCopiesTheClassifier() {
        ModelConfig c = STORIES15M;
        CudaMemoryBudget b = CudaMemoryBudget.of(new ShardSpec(0, 1, c), CudaPrecision.BF16, 1, 1, 1);
        long fp32Parts = 4L * ((long) c.vocabularySize() * c.dim() + (2L * c.numberOfLayers() + 1) * c.dim());
        long bf16Parts = 2L * (layerMatrices(c) + (long) c.vocabularySize() * c.dim());
        assertEquals(fp32Parts + bf16Parts, b.weightBytes());
    }

    @Test
    void ranksSplitTheMatricesAndReplicateTheEmbedding() {
        long single = CudaMemoryBudget.of(new ShardSpec(0, 1, ONE_B), CudaPrecision.FP32, 4, 64, 8).weightBytes();
        long embeddingAndNorms = 4L * ((long) ONE_B.vocabularySize() * ONE_B.dim()
                + (2L * ONE_B.numberOfLayers() + 1) * ONE_B.dim());
        long sumOfRanks = 0;
        for (int r = 0; r < 4; r++) {
            sumOfRanks += CudaMemoryBudget.of(new ShardSpec(r, 4, ONE_B), CudaPrecision.FP32, 4, 64, 8).weightBytes();
        }
        assertEquals(single + 3 * embeddingAndNorms, sumOfRanks);
        assertEquals(4L * (layerMatrices(ONE_B) + (long) ONE_B.vocabularySize() * ONE_B.dim()) + embeddingAndNorms,
                single);
    }

    @Test
    void kvCacheIsKeysAndValuesOfEverySlotAndPosition() {
        CudaMemoryBudget b = CudaMemoryBudget.of(new ShardSpec(1, 2, ONE_B), CudaPrecision.BF16, 256, 2048, 256);
        // 16 layers x 256 slots x 2048 positions x (8 kv heads / 2 ranks x 64) floats x (K and V)
        assertEquals(16L * 256 * 2048 * 256 * 4 * 2, b.kvCacheBytes());
    }

    @Test
    void refusalNamesTheNumbers() {
        CudaMemoryBudget b = CudaMemoryBudget.of(new ShardSpec(0, 1, ONE_B), CudaPrecision.FP32, 256, 2048, 256);
        long total = 80L << 30;
        long free = b.totalBytes(); // everything but the margin
        assertFalse(b.fits(free, total));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> b.requireFits(free, total, "rank 0 on device 0"));
        assertTrue(e.getMessage().contains("rank 0 on device 0 does not fit"), e.getMessage());
        assertTrue(e.getMessage().contains("needs " + (b.totalBytes() >> 20) + " MiB"), e.getMessage());
        assertTrue(e.getMessage().contains("KV cache " + (b.kvCacheBytes() >> 20) + " MiB"), e.getMessage());
        assertTrue(e.getMessage().contains("only " + (free >> 20) + " MiB of 81920 MiB are free"), e.getMessage());
        long margin = CudaMemoryBudget.marginBytes(total);
        assertEquals((512L << 20) + total / 20, margin);
        assertTrue(b.fits(b.totalBytes() + margin, total));
        b.requireFits(b.totalBytes() + margin, total, "fits exactly");
    }
}
