package io.streaminfer.compute;

/**
 * Attention of one row over its slot's cached positions, on the CPU. Scores come 8 positions at a time from
 * the transposed key blocks (the last block's lanes past the row's position are computed and ignored);
 * softmax runs in position order; the weighted value sum keeps its accumulators in registers across
 * positions. Every float's order is fixed by (position, head), never by the batch.
 */
final class CpuAttention {
    private CpuAttention() {}

    /** Positions [0, pos] of {@code slot}, for each of the rank's query heads; out gets (heads, headDim). */
    static void attend(CpuKvCache cache, int layer, int slot, int pos, float[] qkvRow, int qOffset, float[] out,
                       int outOffset, float[] scores, AttentionShape shape) {
        int headDim = shape.headDim();
        float sqrtHeadDim = (float) Math.sqrt(headDim);
        float[] keys = cache.keys(layer);
        float[] values = cache.values(layer);
        int n = pos + 1;
        int blocks = (n + CpuKvCache.KEY_BLOCK - 1) / CpuKvCache.KEY_BLOCK;
        for (int h = 0; h < shape.heads(); h++) {
            int q = qOffset + h * headDim;
            int kvHead = shape.kvHeadOf(h);
            VectorOps.scoreBlocks(qkvRow, q, keys, cache.keyBlockOffset(slot, kvHead, 0), headDim, blocks, scores, 0);
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < n; t++) {
                float s = scores[t] / sqrtHeadDim;
                scores[t] = s;
                if (s > max) {
                    max = s;
                }
            }
            VectorOps.expShifted(scores, 0, n, max);
            float sum = 0f;
            for (int t = 0; t < n; t++) {
                sum += scores[t];
            }
            for (int t = 0; t < n; t++) {
                scores[t] /= sum;
            }
            VectorOps.weightedSum(scores, n, values, cache.valueOffset(slot, 0) + kvHead * headDim, cache.width(),
                    out, outOffset + h * headDim, headDim);
        }
    }
}
