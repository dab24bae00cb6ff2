package io.streaminfer.compute;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Not a test: run its main by hand ("sequential" blocks or shuffled ones) to compare KV block sizes.
 * Decode attention (64 rows x 512 positions, 6 heads of 48) per KV block size; blocks shuffled in the pool. */
public final class KvBlockSizeBenchmark {
    /** The slot design's attention: one contiguous block per sequence, the old kernels. */
    static void oldAttend(CpuKvCache cache, int block, int pos, float[] qkvRow, int qOffset, float[] out, int outOffset,
                          float[] scores, AttentionShape shape) {
        int headDim = shape.headDim();
        float sq = (float) Math.sqrt(headDim);
        int n = pos + 1;
        for (int h = 0; h < shape.heads(); h++) {
            int kvHead = shape.kvHeadOf(h);
            VectorOps.scoreBlocks(qkvRow, qOffset + h * headDim, cache.keys(0), cache.keyOffset(block, kvHead), headDim,
                    (n + 7) / 8, scores, 0);
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < n; t++) { scores[t] /= sq; max = Math.max(max, scores[t]); }
            VectorOps.expShifted(scores, 0, n, max);
            float sum = 0f;
            for (int t = 0; t < n; t++) sum += scores[t];
            for (int t = 0; t < n; t++) scores[t] /= sum;
            VectorOps.weightedSum(scores, n, cache.values(0), cache.valueOffset(block, 0) + kvHead * headDim,
                    cache.width(), out, outOffset + h * headDim, headDim);
        }
    }

    public static void main(String[] args) {
        int rows = 64, positions = Integer.parseInt(args.length > 0 ? args[0] : "512"), heads = 6, headDim = 48;
        int[] sizes = {8, 16, 32, 64, 128, 512, -512};
        AttentionShape shape = new AttentionShape(heads, 0, heads, 0, 1, headDim);
        Random random = new Random(1);
        float[] qkv = new float[rows * shape.qkvWidth()];
        for (int i = 0; i < qkv.length; i++) qkv[i] = random.nextFloat() - 0.5f;
        float[] out = new float[rows * shape.queryWidth()];
        double[][] times = new double[sizes.length][9];
        CpuKvCache[] caches = new CpuKvCache[sizes.length];
        BlockTables[] tables = new BlockTables[sizes.length];
        for (int k = 0; k < sizes.length; k++) {
            int b = Math.abs(sizes[k]);
            int per = KvGeometry.blocksFor(positions, b);
            KvGeometry g = new KvGeometry(rows * per, b, positions);
            caches[k] = new CpuKvCache(1, g, heads * headDim, headDim);
            float[] kv = caches[k].keys(0);
            for (int i = 0; i < kv.length; i++) kv[i] = random.nextFloat() - 0.5f;
            float[] vv = caches[k].values(0);
            for (int i = 0; i < vv.length; i++) vv[i] = random.nextFloat() - 0.5f;
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < rows * per; i++) ids.add(i);
            if (!Boolean.getBoolean("sequential")) Collections.shuffle(ids, random);
            int[] t = new int[rows * per];
            for (int i = 0; i < t.length; i++) t[i] = ids.get(i);
            tables[k] = new BlockTables(per, t);
        }
        CpuAttention.Scratch scratch = CpuAttention.Scratch.forContext(new KvGeometry(1, 8, positions)); // the most blocks
        for (int round = 0; round < 9; round++) {
            for (int k = 0; k < sizes.length; k++) {
                int iters = 60;
                long start = System.nanoTime();
                for (int it = 0; it < iters; it++) {
                    for (int r = 0; r < rows; r++) {
                        if (sizes[k] < 0) {
                            oldAttend(caches[k], tables[k].block(r, 0), positions - 1, qkv, r * shape.qkvWidth(), out,
                                    r * shape.queryWidth(), scratch.scores(), shape);
                            continue;
                        }
                        CpuAttention.attend(caches[k], 0, tables[k], r, positions - 1, qkv, r * shape.qkvWidth(), out,
                                r * shape.queryWidth(), scratch, shape);
                    }
                }
                times[k][round] = (System.nanoTime() - start) / 1e6 / iters;
            }
        }
        for (int k = 0; k < sizes.length; k++) {
            double[] t = times[k].clone();
            java.util.Arrays.sort(t, 1, 9); // round 0 is warm-up
            System.out.printf("block %4d: %.3f ms per 64-row decode step of one layer (median of rounds 2-9)%n", sizes[k], t[4]);
        }
    }
}
