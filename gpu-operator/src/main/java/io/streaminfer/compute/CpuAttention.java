package io.streaminfer.compute;

/**
 * Attention of one row over its sequence's cached positions, on the CPU, read through its block table.
 * Scores come 8 positions at a time from the transposed key runs (the last run's lanes past the row's
 * position are computed and ignored); softmax runs in position order; the weighted value sum keeps its
 * accumulators in registers across all positions, wherever their blocks lie. Every float's order is fixed by (position, head), never by the batch, the block size
 * or where the blocks lie: a sequence reading a prefix another one computed gets the bits it would have
 * computed itself.
 */
final class CpuAttention {
    private static final int LANES = KvGeometry.KEY_LANES;

    private CpuAttention() {}

    /** Per-thread scratch: scores and the offsets of the row's key runs and value rows, context-sized. */
    record Scratch(float[] scores, int[] runOffsets, int[] rowOffsets) {
        static Scratch forContext(KvGeometry geometry) {
            int positions = geometry.blocksPerSequence() * geometry.blockSize();
            return new Scratch(new float[positions], new int[positions / LANES], new int[positions]);
        }
    }

    /**
     * Positions [0, pos] of {@code sequence} of {@code tables}, for each of the rank's query heads; out gets
     * (heads, headDim). The block table is turned into offsets once per row: of every run of 8 keys and of
     * every value row; the kernels then run one chain per output over all positions, as over one slot.
     */
    static void attend(CpuKvCache cache, int layer, BlockTables tables, int sequence, int pos, float[] qkvRow,
                       int qOffset, float[] out, int outOffset, Scratch scratch, AttentionShape shape) {
        int headDim = shape.headDim();
        int blockSize = cache.geometry().blockSize();
        int runsPerBlock = blockSize / LANES;
        float sqrtHeadDim = (float) Math.sqrt(headDim);
        float[] keys = cache.keys(layer);
        float[] values = cache.values(layer);
        float[] scores = scratch.scores();
        int[] runOffsets = scratch.runOffsets();
        int[] rowOffsets = scratch.rowOffsets();
        int n = pos + 1;
        int runs = (n + LANES - 1) / LANES;
        if (n > cache.geometry().positions() || n > scores.length) {
            throw new IllegalArgumentException("position " + pos + " is outside the context of "
                    + cache.geometry().positions());
        }
        // every block lies in the pool, so every offset below lies in the arrays: the kernels need no checks
        int first = tables.block(sequence, 0);
        boolean consecutive = true;
        for (int i = 0; i < KvGeometry.blocksFor(n, blockSize); i++) {
            int block = tables.block(sequence, i);
            if (block >= cache.geometry().blocks()) {
                throw new IllegalArgumentException("KV block " + block + " is outside the pool of "
                        + cache.geometry().blocks());
            }
            consecutive &= block == first + i;
        }
        if (consecutive) {
            attendConsecutive(cache, layer, first, n, qkvRow, qOffset, out, outOffset, scores, shape);
            return;
        }
        for (int j = 0; j < runs; j++) {
            runOffsets[j] = cache.keyRunOffset(tables.block(sequence, j / runsPerBlock), j % runsPerBlock);
        }
        for (int t = 0; t < n; t++) {
            rowOffsets[t] = cache.valueOffset(tables.block(sequence, t / blockSize), t % blockSize);
        }
        for (int h = 0; h < shape.heads(); h++) {
            int q = qOffset + h * headDim;
            int kvHead = shape.kvHeadOf(h);
            VectorOps.scoreRunsInRange(qkvRow, q, keys, cache.kvHeadKeyOffset(kvHead), runOffsets, headDim, runs,
                    scores, 0);
            softmax(scores, n, sqrtHeadDim);
            VectorOps.weightedSumRowsInRange(scores, n, values, kvHead * headDim, rowOffsets, out,
                    outOffset + h * headDim, headDim);
        }
    }

    /**
     * The same for a sequence whose blocks are consecutive from {@code first}: its keys and values lie as in
     * one slot, and the contiguous kernels read them with no offsets (the same chains, so the same bits).
     */
    private static void attendConsecutive(CpuKvCache cache, int layer, int first, int n, float[] qkvRow, int qOffset,
                                          float[] out, int outOffset, float[] scores, AttentionShape shape) {
        int headDim = shape.headDim();
        float sqrtHeadDim = (float) Math.sqrt(headDim);
        float[] keys = cache.keys(layer);
        float[] values = cache.values(layer);
        int runs = (n + LANES - 1) / LANES;
        for (int h = 0; h < shape.heads(); h++) {
            int q = qOffset + h * headDim;
            int kvHead = shape.kvHeadOf(h);
            VectorOps.scoreBlocks(qkvRow, q, keys, cache.keyOffset(first, kvHead), headDim, runs, scores, 0);
            softmax(scores, n, sqrtHeadDim);
            VectorOps.weightedSum(scores, n, values, cache.valueOffset(first, 0) + kvHead * headDim, cache.width(),
                    out, outOffset + h * headDim, headDim);
        }
    }

    /** In place, softmax of scores[0, n) / sqrt(head_dim), in position order. */
    private static void softmax(float[] scores, int n, float sqrtHeadDim) {
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
    }
}
