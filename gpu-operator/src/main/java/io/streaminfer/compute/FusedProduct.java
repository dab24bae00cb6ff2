package io.streaminfer.compute;

import io.streaminfer.comm.FixedOrder;
import java.util.Arrays;

/**
 * Small batches over compressed panels: each group of {@link CompressedPanels#FUSED_PANELS} panels is read
 * once from memory and converted in registers by the kind's fused kernels, for every row of the batch while
 * it sits in L1/L2, so nothing is expanded to fp32 and written back. Each output is the same sequential fma
 * chain per segment, and the segments are combined by the same {@link FixedOrder} tree, as in the panel path,
 * so a row's bits do not depend on which path, batch size or position computed it. Work is split over panel
 * groups (output columns), never over k.
 */
final class FusedProduct {
    /**
     * Batches up to this many rows take the fused kernels, whatever the kind; above it the panel path's tile
     * expansion (paid once per tile, however many rows) is cheaper than converting every weight once per 4
     * rows. Measured on the
     * 2-vCPU EPYC (one thread, CPU time, 4000 x 288 in L3): Q8_0 fused 64 vs panels 63 GFLOP/s at 4 rows and
     * 65 vs 80 at 8; Q4_0 55 vs 53 and 56 vs 71. BF16 was faster fused at 8 rows on that shape (90 vs 81) but
     * slower over a whole stories15M decode step (DecodeStepBenchmark m=8: 1,490 vs 1,740 tok/s).
     */
    static final int MAX_ROWS = 4;
    private static final int ROW_BLOCK = 4;
    private static final int GROUP_WIDTH = CompressedPanels.FUSED_PANELS * CompressedPanels.LANES;

    private FusedProduct() {}

    /** Whether a product of m rows takes this path. */
    static boolean applies(int m) {
        return m <= MAX_ROWS;
    }

    /** Panel groups of w: the units work is split in. */
    static int groups(CompressedPanels w) {
        return CompressedPanels.storedPanels(w.panels) / CompressedPanels.FUSED_PANELS;
    }

    /** Scratch floats one thread needs: (segments, 4 rows, 64 columns) of partials. */
    static int scratchFloats(int segments) {
        return segments * ROW_BLOCK * GROUP_WIDTH;
    }

    /** Floats of the padded copy of x that {@link #compute} needs for rows of width k. */
    static int padFloats(int k) {
        return ROW_BLOCK * k;
    }

    /**
     * out (m, n) for panel groups [groupLo, groupHi); {@code part} is scratch of {@link #scratchFloats},
     * {@code tile} of {@link CompressedPanels#TILE_FLOATS}, {@code pad} of {@link #padFloats}. A block of 3 rows
     * (and of 2 where {@link CompressedPanels#pairAsFour} says so) runs the 4-row kernel on a copy padded with
     * zero rows, whose outputs are dropped; each row's fma chains are the same either way. Measured over a
     * stories15M decode step (one thread, CPU time, tok/s), padded vs one 1-row pass per row: m=3 q8_0 1,121
     * vs about 730, q4_0 1,611 vs 958 (the panel path); m=2 q4_0 769 vs 642, bf16 552 vs 463, but q8_0 631 vs
     * 982.
     */
    static void compute(float[] x, int m, CompressedPanels w, int n, int segments, float[] out,
                        int groupLo, int groupHi, float[] part, float[] tile, float[] pad) {
        int k = w.k;
        int len = k / segments;
        int tail = m % ROW_BLOCK;
        if (tail == 2 && !w.pairAsFour()) {
            tail = 0;
        }
        int tailRow = m - tail;
        if (tail > 1) {
            System.arraycopy(x, tailRow * k, pad, 0, tail * k);
            Arrays.fill(pad, tail * k, ROW_BLOCK * k, 0f);
        }
        for (int g = groupLo; g < groupHi; g++) {
            int p = g * CompressedPanels.FUSED_PANELS;
            for (int r = 0; r < m; ) {
                boolean padded = r == tailRow && tail > 1;
                int real = padded ? tail : m - r >= ROW_BLOCK ? ROW_BLOCK : 1; // rows of out this block writes
                int rows = real == 1 ? 1 : ROW_BLOCK;                          // rows the kernel computes
                float[] xs = padded ? pad : x;
                int x0 = padded ? 0 : r * k;
                int segStride = rows * GROUP_WIDTH; // part: (segments, rows, GROUP_WIDTH)
                for (int s = 0; s < segments; s++) {
                    int off = s * segStride;
                    if (rows == ROW_BLOCK) {
                        for (int h = 0; h < CompressedPanels.FUSED_PANELS; h += 2) { // one call site: inlined once
                            w.dot4(xs, x0, p + h, s * len, len, part, off + h * CompressedPanels.LANES, GROUP_WIDTH,
                                    tile);
                        }
                    } else {
                        w.dot1(xs, x0, p, s * len, len, part, off, tile);
                    }
                }
                int col0 = p * CompressedPanels.LANES;
                int cols = Math.min(GROUP_WIDTH, n - col0);
                for (int i = 0; i < real; i++) {
                    FixedOrder.treeSumColumns(part, i * GROUP_WIDTH, segStride, segments, out, (r + i) * n + col0, cols);
                }
                r += real;
            }
        }
    }
}
