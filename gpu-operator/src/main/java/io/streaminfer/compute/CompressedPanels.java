package io.streaminfer.compute;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Weights kept in their storage kind (2 bytes for BF16/F16, about 1 for Q8_0 and Q6_K, 0.5 for Q4_0 and
 * Q4_K), laid out in {@link VectorMatmul}'s panels of 8 output columns. Two ways to use them, which give the
 * same bits:
 * <ul>
 *   <li>{@link #expand}: panels to fp32 one L2-sized tile at a time, for the fp32 kernel (large batches,
 *       where one expansion serves many rows);</li>
 *   <li>{@link #dot1} / {@link #dot4}: fused kernels that convert each weight in registers and fma it at
 *       once (small batches: the compressed bytes are read once and nothing is written back).</li>
 * </ul>
 * Every weight either path computes is exactly what {@link WeightTensor#readRow} gives (a bf16/f16 value is a
 * float; a quantized one is one float multiply, and for Q4_K a multiply then a subtraction, as ggml's scalar
 * dequantization), and every output is the same sequential fma chain over its segment as
 * {@link ScalarMatmul}; so products are bitwise the fp32 kernel's on the dequantized weights, whichever path
 * and batch size, and as batch- and TP-invariant.
 *
 * <p>Storage holds whole groups of {@link #FUSED_PANELS} panels (zero past the last one), so the fused kernels
 * need no edge cases; outputs past n are dropped when the partials are combined.
 */
abstract class CompressedPanels {
    /** Output columns per panel, as {@link VectorMatmul}'s: 16 with 512-bit kernels, else 8. */
    static final int LANES = VectorShapes.LANES;
    /**
     * Panels one {@link #dot1} call covers ({@link #dot4} covers 2), 64 columns either way: with 8 lanes, 8
     * independent fma chains, enough to hide the fma latency (2 units x 4 cycles; with 4 a single row ran at
     * about half the fma rate); with 16 lanes 4 chains ran a Q8_0 row at 72 GFLOP/s against 40 for 8 x 8
     * (JDK 25, the 2-vCPU EPYC), and 64-column groups keep a 288-wide product split evenly over two threads.
     */
    static final int FUSED_PANELS = 64 / LANES;
    private static final VectorSpecies<Float> F = VectorShapes.WIDE_FLOATS;
    /** Scratch the fused kernels may use: one 32-column run of a group's panels in fp32. */
    static final int TILE_FLOATS = FUSED_PANELS * 32 * LANES;

    /** Panels holding real rows; storage is rounded up to a multiple of {@link #FUSED_PANELS}. */
    final int panels;
    final int k;

    CompressedPanels(int panels, int k) {
        this.panels = panels;
        this.k = k;
    }

    /** Panels the arrays hold: {@link #panels} rounded up to whole fused groups. */
    static int storedPanels(int panels) {
        return (panels + FUSED_PANELS - 1) / FUSED_PANELS * FUSED_PANELS;
    }

    /** Writes panels [from, to) as fp32 (panel - from, k, LANES) into dst: {@link VectorMatmul}'s panels. */
    abstract void expand(int from, int to, float[] dst);

    /**
     * Panels [p, p + count), columns [c, stop) of one 32-column block, as fp32 (panel, 32, LANES) into tile (the
     * first column at the start of each panel's 32): the same floats {@link #expand} gives.
     */
    abstract void expandRun(int p, int count, int c, int stop, float[] tile);

    /**
     * One row against panels [p, p + FUSED_PANELS) over columns [c0, c0 + len): writes the 64 segment partials, panel
     * after panel, to {@code part[off ..)}. The row's column c is {@code x[x0 + c]}. {@code tile} is scratch
     * of {@link #TILE_FLOATS}.
     *
     * <p>This default expands each 32-column block run into tile (L1) with {@link #expandRun} and fmas from
     * there; kinds whose conversion is cheap override it to convert in registers. (A conversion of many
     * operations inlined four times into the fma loop made C2 stop inlining the Vector API on JDK 17,
     * NodeCountInliningCutoff, and allocate every vector.) The accumulators go through part[] between runs:
     * a vector carried around two nested loops also defeats C2's box elimination.
     */
    void dot1(float[] x, int x0, int p, int c0, int len, float[] part, int off, float[] tile) {
        java.util.Arrays.fill(part, off, off + FUSED_PANELS * LANES, 0f);
        int run = 32 * LANES;
        int end = c0 + len;
        if (FUSED_PANELS == 4) {
            for (int c = c0; c < end; ) {
                int stop = Math.min(end, (c / 32 + 1) * 32);
                expandRun(p, FUSED_PANELS, c, stop, tile);
                FloatVector a0 = FloatVector.fromArray(F, part, off + 0 * LANES);
                FloatVector a1 = FloatVector.fromArray(F, part, off + 1 * LANES);
                FloatVector a2 = FloatVector.fromArray(F, part, off + 2 * LANES);
                FloatVector a3 = FloatVector.fromArray(F, part, off + 3 * LANES);
                for (int i = 0; c < stop; c++, i += LANES) {
                    FloatVector b = FloatVector.broadcast(F, x[x0 + c]);
                    a0 = FloatVector.fromArray(F, tile, i + 0 * run).fma(b, a0);
                    a1 = FloatVector.fromArray(F, tile, i + 1 * run).fma(b, a1);
                    a2 = FloatVector.fromArray(F, tile, i + 2 * run).fma(b, a2);
                    a3 = FloatVector.fromArray(F, tile, i + 3 * run).fma(b, a3);
                }
                a0.intoArray(part, off + 0 * LANES);
                a1.intoArray(part, off + 1 * LANES);
                a2.intoArray(part, off + 2 * LANES);
                a3.intoArray(part, off + 3 * LANES);
            }
            return;
        }
        for (int c = c0; c < end; ) {
            int q = c / 32;
            int stop = Math.min(end, (q + 1) * 32); // one block's run of the segment
            expandRun(p, FUSED_PANELS, c, stop, tile);
            FloatVector a0 = FloatVector.fromArray(F, part, off + 0 * LANES);
            FloatVector a1 = FloatVector.fromArray(F, part, off + 1 * LANES);
            FloatVector a2 = FloatVector.fromArray(F, part, off + 2 * LANES);
            FloatVector a3 = FloatVector.fromArray(F, part, off + 3 * LANES);
            FloatVector a4 = FloatVector.fromArray(F, part, off + 4 * LANES);
            FloatVector a5 = FloatVector.fromArray(F, part, off + 5 * LANES);
            FloatVector a6 = FloatVector.fromArray(F, part, off + 6 * LANES);
            FloatVector a7 = FloatVector.fromArray(F, part, off + 7 * LANES);
            for (int i = 0; c < stop; c++, i += LANES) {
                FloatVector b = FloatVector.broadcast(F, x[x0 + c]);
                a0 = FloatVector.fromArray(F, tile, i + 0 * run).fma(b, a0);
                a1 = FloatVector.fromArray(F, tile, i + 1 * run).fma(b, a1);
                a2 = FloatVector.fromArray(F, tile, i + 2 * run).fma(b, a2);
                a3 = FloatVector.fromArray(F, tile, i + 3 * run).fma(b, a3);
                a4 = FloatVector.fromArray(F, tile, i + 4 * run).fma(b, a4);
                a5 = FloatVector.fromArray(F, tile, i + 5 * run).fma(b, a5);
                a6 = FloatVector.fromArray(F, tile, i + 6 * run).fma(b, a6);
                a7 = FloatVector.fromArray(F, tile, i + 7 * run).fma(b, a7);
            }
            a0.intoArray(part, off + 0 * LANES);
            a1.intoArray(part, off + 1 * LANES);
            a2.intoArray(part, off + 2 * LANES);
            a3.intoArray(part, off + 3 * LANES);
            a4.intoArray(part, off + 4 * LANES);
            a5.intoArray(part, off + 5 * LANES);
            a6.intoArray(part, off + 6 * LANES);
            a7.intoArray(part, off + 7 * LANES);
        }
    }

    /**
     * Four rows (row i's column c is {@code x[x0 + i * k + c]}) against panels [p, p + 2) over columns
     * [c0, c0 + len): row i's 2 * LANES partials go to {@code part[off + i * width ..)}. Default as {@link #dot1}.
     */
    void dot4(float[] x, int x0, int p, int c0, int len, float[] part, int off, int width, float[] tile) {
        int run = 32 * LANES;
        int xb = x0 + k, xc = xb + k, xd = xc + k;
        zero4(part, off, width);
        int end = c0 + len;
        for (int c = c0; c < end; ) {
            int q = c / 32;
            int stop = Math.min(end, (q + 1) * 32);
            expandRun(p, 2, c, stop, tile);
            FloatVector a00 = FloatVector.fromArray(F, part, off);
            FloatVector a01 = FloatVector.fromArray(F, part, off + LANES);
            FloatVector a10 = FloatVector.fromArray(F, part, off + width);
            FloatVector a11 = FloatVector.fromArray(F, part, off + width + LANES);
            FloatVector a20 = FloatVector.fromArray(F, part, off + 2 * width);
            FloatVector a21 = FloatVector.fromArray(F, part, off + 2 * width + LANES);
            FloatVector a30 = FloatVector.fromArray(F, part, off + 3 * width);
            FloatVector a31 = FloatVector.fromArray(F, part, off + 3 * width + LANES);
            for (int i = 0; c < stop; c++, i += LANES) {
                FloatVector w0 = FloatVector.fromArray(F, tile, i);
                FloatVector w1 = FloatVector.fromArray(F, tile, i + run);
                FloatVector b = FloatVector.broadcast(F, x[x0 + c]);
                a00 = w0.fma(b, a00);
                a01 = w1.fma(b, a01);
                b = FloatVector.broadcast(F, x[xb + c]);
                a10 = w0.fma(b, a10);
                a11 = w1.fma(b, a11);
                b = FloatVector.broadcast(F, x[xc + c]);
                a20 = w0.fma(b, a20);
                a21 = w1.fma(b, a21);
                b = FloatVector.broadcast(F, x[xd + c]);
                a30 = w0.fma(b, a30);
                a31 = w1.fma(b, a31);
            }
            store4(part, off, width, a00, a01, a10, a11, a20, a21, a30, a31);
        }
    }

    /** Whether two rows run faster as a padded 4-row block than as two 1-row passes (see FusedProduct). */
    boolean pairAsFour() {
        return true;
    }

    /** Bytes the packed weights hold. */
    abstract long bytes();

    /** The kinds packed this way. */
    static boolean supports(StorageKind kind) {
        return kind != StorageKind.F32;
    }

    /**
     * Packs the stacked row blocks (all of one kind and width) into panels: output row j of the stack is
     * lane j % LANES of panel j / LANES; rows past the stack are zero.
     */
    static CompressedPanels pack(StorageKind kind, WeightSlice[] blocks, int rows, int k) {
        int panels = (rows + LANES - 1) / LANES;
        CompressedPanels out = switch (kind) {
            case BF16 -> new HalfPanels.Bf16(panels, k);
            case F16 -> new HalfPanels.F16(panels, k);
            case Q8_0 -> new ScaledBytePanels(panels, k, 32);
            case Q6_K -> new ScaledBytePanels(panels, k, 16);
            case Q4_0, Q4_K -> new NibblePanels(panels, k);
            default -> throw new IllegalArgumentException(kind + " weights are not packed as compressed panels");
        };
        int j = 0;
        for (WeightSlice b : blocks) {
            WeightTensor t = b.tensor();
            ByteBuffer bytes = t.bytesView();
            long rowBytes = kind.rowBytes(t.cols());
            for (int r = 0; r < b.rows(); r++, j++) {
                long rowStart = (b.rowStart() + r) * rowBytes + kind.rowBytes(b.colStart());
                out.putRow(kind, bytes, (int) rowStart, j / LANES, j % LANES);
            }
        }
        return out;
    }

    /**
     * Stores one source row of {@code kind} (its first byte at {@code at}, k elements) as lane {@code lane}
     * of panel {@code panel}.
     */
    abstract void putRow(StorageKind kind, ByteBuffer source, int at, int panel, int lane);

    /** Zeros the 4 rows x 2 * LANES partials a dot4 accumulates into. */
    static void zero4(float[] part, int off, int width) {
        for (int i = 0; i < 4; i++) {
            java.util.Arrays.fill(part, off + i * width, off + i * width + 2 * LANES, 0f);
        }
    }

    /** The 4 rows x 2 panels of accumulators of a dot4, row i at off + i * width. */
    static void store4(float[] part, int off, int width, FloatVector a00, FloatVector a01, FloatVector a10,
                       FloatVector a11, FloatVector a20, FloatVector a21, FloatVector a30, FloatVector a31) {
        a00.intoArray(part, off);
        a01.intoArray(part, off + LANES);
        a10.intoArray(part, off + width);
        a11.intoArray(part, off + width + LANES);
        a20.intoArray(part, off + 2 * width);
        a21.intoArray(part, off + 2 * width + LANES);
        a30.intoArray(part, off + 3 * width);
        a31.intoArray(part, off + 3 * width + LANES);
    }
}
