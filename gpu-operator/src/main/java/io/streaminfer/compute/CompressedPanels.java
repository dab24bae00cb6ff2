package io.streaminfer.compute;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;

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
    static final int LANES = 8;
    /** Panels one {@link #dot1} call covers; {@link #dot4} covers half as many. */
    static final int FUSED_PANELS = 4;

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

    /** Writes panels [from, to) as fp32 (panel - from, k, 8) into dst. */
    abstract void expand(int from, int to, float[] dst);

    /**
     * One row against panels [p, p + 4) over columns [c0, c0 + len): writes the 32 segment partials, panel
     * after panel, to {@code part[off ..)}. The row's column c is {@code x[x0 + c]}.
     */
    abstract void dot1(float[] x, int x0, int p, int c0, int len, float[] part, int off);

    /**
     * Four rows (row i's column c is {@code x[x0 + i * k + c]}) against panels [p, p + 2) over columns
     * [c0, c0 + len): row i's 16 partials go to {@code part[off + i * width ..)}.
     */
    abstract void dot4(float[] x, int x0, int p, int c0, int len, float[] part, int off, int width);

    /** Whether the fused kernels can sum a segment that starts at c0 and has len columns. */
    boolean fusable(int c0, int len) {
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
     * lane j % 8 of panel j / 8; rows past the stack are zero.
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
