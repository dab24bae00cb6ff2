package io.streaminfer.compute;

/**
 * Attention of one row over its sequence's cached positions, on the CPU, block by block of its block
 * table. Scores come 8 positions at a time from the transposed key runs (the last run's lanes past the
 * row's position are computed and ignored); softmax runs in position order; the weighted value sum keeps
 * its accumulators in registers across a block's positions and carries them through {@code out} from one
 * block to the next. Every float's order is fixed by (position, head), never by the batch, the block size
 * or where the blocks lie: a sequence reading a prefix another one computed gets the bits it would have
 * computed itself.
 */
final class CpuAttention {
    private static final int LANES = KvGeometry.KEY_LANES;

    private CpuAttention() {}

    /**
     * Positions [0, pos] of {@code sequence} of {@code tables}, for each of the rank's query heads; out gets
     * (heads, headDim). scores holds at least the context rounded up to whole blocks.
     */
    static void attend(CpuKvCache cache, int layer, BlockTables tables, int sequence, int pos, float[] qkvRow,
                       int qOffset, float[] out, int outOffset, float[] scores, AttentionShape shape) {
        int headDim = shape.headDim();
        int blockSize = cache.geometry().blockSize();
        float sqrtHeadDim = (float) Math.sqrt(headDim);
        float[] keys = cache.keys(layer);
        float[] values = cache.values(layer);
        int n = pos + 1;
        int blocks = KvGeometry.blocksFor(n, blockSize);
        for (int h = 0; h < shape.heads(); h++) {
            int q = qOffset + h * headDim;
            int kvHead = shape.kvHeadOf(h);
            for (int i = 0; i < blocks; i++) {
                int inBlock = Math.min(blockSize, n - i * blockSize);
                VectorOps.scoreBlocks(qkvRow, q, keys, cache.keyOffset(tables.block(sequence, i), kvHead), headDim,
                        (inBlock + LANES - 1) / LANES, scores, i * blockSize);
            }
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
            for (int i = 0; i < blocks; i++) {
                int inBlock = Math.min(blockSize, n - i * blockSize);
                VectorOps.weightedSum(scores, i * blockSize, inBlock, values,
                        cache.valueOffset(tables.block(sequence, i), 0) + kvHead * headDim, cache.width(), out,
                        outOffset + h * headDim, headDim, i > 0);
            }
        }
    }
}
