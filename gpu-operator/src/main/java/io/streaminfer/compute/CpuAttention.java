package io.streaminfer.compute;

/**
 * Attention of one row over its sequence's cached positions, on the CPU, read through its block table.
 * The table is cut into segments of consecutive blocks (usually a few: a shared prefix, then the sequence's
 * own blocks), and each segment lies in memory as a slot of the whole context did (see {@link CpuKvCache}),
 * so the contiguous kernels read it at their speed. Scores come 8 positions at a time from the transposed
 * key runs (the last run's lanes past the row's position are computed and ignored); softmax runs in
 * position order; the weighted value sum keeps its accumulators in registers within a segment and carries
 * them through {@code out} to the next. Every float's order is fixed by (position, head), never by the
 * batch, the block size or where the blocks lie: a sequence reading a prefix another one computed gets the
 * bits it would have computed itself.
 */
final class CpuAttention {
    private static final int LANES = KvGeometry.KEY_LANES;

    private CpuAttention() {}

    /** Per-thread scratch: the scores and the segments of a row's table, context-sized. */
    record Scratch(float[] scores, int[] segmentStarts, int[] segmentBlocks) {
        static Scratch forContext(KvGeometry geometry) {
            int blocks = geometry.blocksPerSequence();
            return new Scratch(new float[blocks * geometry.blockSize()], new int[blocks + 1], new int[blocks]);
        }
    }

    /** As below, for every query head of the rank. */
    static void attend(CpuKvCache cache, int layer, BlockTables tables, int sequence, int pos, float[] qkvRow,
                       int qOffset, float[] out, int outOffset, Scratch scratch, AttentionShape shape) {
        attend(cache, layer, tables, sequence, pos, qkvRow, qOffset, out, outOffset, scratch, shape, 0, shape.heads());
    }

    /**
     * Positions [0, pos] of {@code sequence} of {@code tables}, for the rank's query heads [headLo, headHi);
     * out gets (heads, headDim). A head's floats do not depend on which others the call computes.
     */
    static void attend(CpuKvCache cache, int layer, BlockTables tables, int sequence, int pos, float[] qkvRow,
                       int qOffset, float[] out, int outOffset, Scratch scratch, AttentionShape shape,
                       int headLo, int headHi) {
        int headDim = shape.headDim();
        int blockSize = cache.geometry().blockSize();
        float sqrtHeadDim = (float) Math.sqrt(headDim);
        float[] keys = cache.keys(layer);
        float[] values = cache.values(layer);
        float[] scores = scratch.scores();
        int n = pos + 1;
        if (n > scores.length) {
            throw new IllegalArgumentException("position " + pos + " is outside the context of "
                    + cache.geometry().positions());
        }
        // segments of consecutive blocks: segment i covers positions [starts[i], starts[i + 1]) from block firsts[i]
        int[] starts = scratch.segmentStarts();
        int[] firsts = scratch.segmentBlocks();
        int segments = 0;
        int blocks = KvGeometry.blocksFor(n, blockSize);
        for (int i = 0; i < blocks; i++) {
            int block = tables.block(sequence, i);
            if (block >= cache.geometry().blocks()) {
                throw new IllegalArgumentException("KV block " + block + " is outside the pool of "
                        + cache.geometry().blocks());
            }
            if (i == 0 || block != tables.block(sequence, i - 1) + 1) {
                starts[segments] = i * blockSize;
                firsts[segments] = block;
                segments++;
            }
        }
        starts[segments] = n;
        for (int h = headLo; h < headHi; h++) {
            int q = qOffset + h * headDim;
            int kvHead = shape.kvHeadOf(h);
            for (int s = 0; s < segments; s++) {
                int runs = (starts[s + 1] - starts[s] + LANES - 1) / LANES;
                VectorOps.scoreBlocks(qkvRow, q, keys, cache.keyOffset(firsts[s], kvHead), headDim, runs, scores,
                        starts[s]);
            }
            softmax(scores, n, sqrtHeadDim);
            for (int s = 0; s < segments; s++) {
                VectorOps.weightedSum(scores, starts[s], starts[s + 1] - starts[s], values,
                        cache.valueOffset(firsts[s], 0) + kvHead * headDim, cache.width(), out,
                        outOffset + h * headDim, headDim, s > 0);
            }
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
