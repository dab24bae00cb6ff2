package io.streaminfer.compute;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * 4-bit values 0..15 with a float scale d and a float min m per block of 32 columns: weight = d * v - m (a
 * multiply, then a subtraction, each rounded, as ggml's scalar {@code dequantize_row_q4_K}). The product d * v
 * is exact in a float for both kinds (v has 4 bits; d is an f16, 11 bits, times Q4_K's 6-bit sub-block scale
 * at most), so one fma of v, d and -m rounds exactly as the subtraction does: the kernels store -m and save
 * an operation per weight.
 * <ul>
 *   <li>Q4_K: d and m are its sub-block's d * scale and dmin * min.</li>
 *   <li>Q4_0: d is the block's scale and m = 8 * d. Its weight (v - 8) * d is exact in a float, and so are
 *       d * v, 8 * d and their difference, so d * v - m is the same float (a zero weight may come out +0
 *       where (v - 8) * d is -0; an fma chain that starts at +0 cannot tell them apart).</li>
 * </ul>
 * Panels are stored in pairs: byte (pair, c, lane) holds column c of lane {@code lane} of the even panel in
 * its low nibble and of the odd panel in its high one, so one load of LANES bytes feeds two panels at one column and
 * the fused kernel runs four independent fma chains per column.
 */
final class NibblePanels extends CompressedPanels {
    private static final VectorSpecies<Float> F = VectorShapes.WIDE_FLOATS;
    private static final VectorSpecies<Byte> B = VectorShapes.LANE_BYTES;
    private static final VectorSpecies<Integer> I = VectorShapes.LANE_INTS;

    private final byte[] nibbles; // (stored panels / 2, k, LANES)
    private final float[] scales; // (stored panels, k / 32, LANES)
    private final float[] negMins; // (stored panels, k / 32, LANES) -m

    NibblePanels(int panels, int k) {
        super(panels, k);
        int stored = storedPanels(panels);
        this.nibbles = new byte[Math.multiplyExact(Math.multiplyExact(stored / 2, k), LANES)];
        this.scales = new float[Math.multiplyExact(stored * (k / 32), LANES)];
        this.negMins = new float[scales.length];
    }

    @Override
    void putRow(StorageKind kind, ByteBuffer source, int at, int panel, int lane) {
        int[] v = new int[k];
        int blocks = k / 32;
        for (int q = 0; q < blocks; q++) {
            int block = (panel * blocks + q) * LANES + lane;
            if (kind == StorageKind.Q4_0) {
                int src = at + q * 18;
                float d = Half.toFloat(source.getShort(src));
                scales[block] = d;
                negMins[block] = -8 * d;
                for (int j = 0; j < 16; j++) {
                    int b = source.get(src + 2 + j) & 0xFF;
                    v[q * 32 + j] = b & 15;
                    v[q * 32 + j + 16] = b >>> 4;
                }
            } else if (q % 8 == 0) {
                // a Q4_K super-block covers 8 blocks: chunk c holds sub-block 2c in its low nibbles, 2c + 1 high
                int src = at + q / 8 * 144;
                float d = Half.toFloat(source.getShort(src));
                float dmin = Half.toFloat(source.getShort(src + 2));
                for (int j = 0; j < 8; j++) {
                    scales[block + j * LANES] = d * Dequantize.q4KScale(source, src + 4, j);
                    negMins[block + j * LANES] = -(dmin * Dequantize.q4KMin(source, src + 4, j));
                }
                for (int chunk = 0; chunk < 4; chunk++) {
                    for (int l = 0; l < 32; l++) {
                        int b = source.get(src + 16 + 32 * chunk + l) & 0xFF;
                        v[q * 32 + 64 * chunk + l] = b & 15;
                        v[q * 32 + 64 * chunk + 32 + l] = b >>> 4;
                    }
                }
            }
        }
        int shift = 4 * (panel % 2); // an even panel in the low nibbles of its pair, an odd one in the high
        for (int c = 0; c < k; c++) {
            int at2 = ((panel / 2) * k + c) * LANES + lane;
            nibbles[at2] = (byte) ((nibbles[at2] & (0xF0 >>> shift)) | (v[c] << shift));
        }
    }

    // Decoding widens the bytes to ints once and splits the nibbles there: x86 has no byte shifts, so a shift of
    // byte lanes costs several instructions, and an int lane converts to float in one.

    private static IntVector widen(ByteVector b) {
        return (IntVector) b.convertShape(VectorOperators.B2I, I, 0);
    }

    private static FloatVector low(IntVector w, FloatVector d, FloatVector negMin) {
        return ((FloatVector) w.and(15).convert(VectorOperators.I2F, 0)).fma(d, negMin);
    }

    private static FloatVector high(IntVector w, FloatVector d, FloatVector negMin) {
        return ((FloatVector) w.lanewise(VectorOperators.ASHR, 4).and(15).convert(VectorOperators.I2F, 0)).fma(d, negMin);
    }

    @Override
    void expand(int from, int to, float[] dst) {
        for (int p = from; p < to; p++) {
            for (int c = 0; c < k; c += 32) {
                expandRun(p, 1, c, c + 32, dst, (p - from) * k * LANES + c * LANES, LANES);
            }
        }
    }

    @Override
    void expandRun(int p, int count, int c, int stop, float[] tile) {
        for (int j = 0; j < count; j++) {
            expandRun(p + j, 1, c, stop, tile, j * 32 * LANES, LANES);
        }
    }

    /** Panel p, columns [c, stop) of one block, to dst[out ..) one column per {@code step} floats. */
    private void expandRun(int p, int one, int c, int stop, float[] dst, int out, int step) {
        int s = (p * (k / 32) + c / 32) * LANES;
        FloatVector d = FloatVector.fromArray(F, scales, s);
        FloatVector m = FloatVector.fromArray(F, negMins, s);
        int i = ((p / 2) * k + c) * LANES;
        if (p % 2 == 0) {
            for (int col = c; col < stop; col++, i += LANES, out += step) {
                low(widen(ByteVector.fromArray(B, nibbles, i)), d, m).intoArray(dst, out);
            }
        } else {
            for (int col = c; col < stop; col++, i += LANES, out += step) {
                high(widen(ByteVector.fromArray(B, nibbles, i)), d, m).intoArray(dst, out);
            }
        }
    }

    // In-register kernels over panel pairs; accumulators go through part[] between blocks (see ScaledBytePanels).

    /**
     * Four panels at a time, twice: eight nibble conversions inlined into one fma loop made C2 stop inlining the
     * Vector API (NodeCountInliningCutoff on JDK 17) and allocate every vector, 10x slower.
     */
    @Override
    void dot1(float[] x, int x0, int p, int c0, int len, float[] part, int off, float[] tile) {
        int blocks = k / 32;
        int pairStride = k * LANES;
        int scaleStride = blocks * LANES;
        java.util.Arrays.fill(part, off, off + FUSED_PANELS * LANES, 0f);
        int end = c0 + len;
        for (int c = c0; c < end; ) {
            int q = c / 32;
            int stop = Math.min(end, (q + 1) * 32); // one block's run of the segment
            for (int h = 0; h < FUSED_PANELS; h += 4) {
                int s = ((p + h) * blocks + q) * LANES;
                int o = off + h * LANES;
                FloatVector d0 = FloatVector.fromArray(F, scales, s);
                FloatVector d1 = FloatVector.fromArray(F, scales, s + scaleStride);
                FloatVector d2 = FloatVector.fromArray(F, scales, s + 2 * scaleStride);
                FloatVector d3 = FloatVector.fromArray(F, scales, s + 3 * scaleStride);
                FloatVector m0 = FloatVector.fromArray(F, negMins, s);
                FloatVector m1 = FloatVector.fromArray(F, negMins, s + scaleStride);
                FloatVector m2 = FloatVector.fromArray(F, negMins, s + 2 * scaleStride);
                FloatVector m3 = FloatVector.fromArray(F, negMins, s + 3 * scaleStride);
                FloatVector a0 = FloatVector.fromArray(F, part, o);
                FloatVector a1 = FloatVector.fromArray(F, part, o + LANES);
                FloatVector a2 = FloatVector.fromArray(F, part, o + 2 * LANES);
                FloatVector a3 = FloatVector.fromArray(F, part, o + 3 * LANES);
                for (int col = c, i = (((p + h) / 2) * k + c) * LANES; col < stop; col++, i += LANES) {
                    FloatVector b = FloatVector.broadcast(F, x[x0 + col]);
                    IntVector v01 = widen(ByteVector.fromArray(B, nibbles, i));
                    IntVector v23 = widen(ByteVector.fromArray(B, nibbles, i + pairStride));
                    a0 = low(v01, d0, m0).fma(b, a0);
                    a1 = high(v01, d1, m1).fma(b, a1);
                    a2 = low(v23, d2, m2).fma(b, a2);
                    a3 = high(v23, d3, m3).fma(b, a3);
                }
                a0.intoArray(part, o);
                a1.intoArray(part, o + LANES);
                a2.intoArray(part, o + 2 * LANES);
                a3.intoArray(part, o + 3 * LANES);
            }
            c = stop;
        }
    }

    @Override
    void dot4(float[] x, int x0, int p, int c0, int len, float[] part, int off, int width, float[] tile) {
        int blocks = k / 32;
        int xb = x0 + k, xc = xb + k, xd = xc + k;
        zero4(part, off, width);
        int end = c0 + len;
        for (int c = c0; c < end; ) {
            int q = c / 32;
            int stop = Math.min(end, (q + 1) * 32);
            int s = (p * blocks + q) * LANES;
            FloatVector d0 = FloatVector.fromArray(F, scales, s);
            FloatVector d1 = FloatVector.fromArray(F, scales, s + blocks * LANES);
            FloatVector m0 = FloatVector.fromArray(F, negMins, s);
            FloatVector m1 = FloatVector.fromArray(F, negMins, s + blocks * LANES);
            FloatVector a00 = FloatVector.fromArray(F, part, off);
            FloatVector a01 = FloatVector.fromArray(F, part, off + LANES);
            FloatVector a10 = FloatVector.fromArray(F, part, off + width);
            FloatVector a11 = FloatVector.fromArray(F, part, off + width + LANES);
            FloatVector a20 = FloatVector.fromArray(F, part, off + 2 * width);
            FloatVector a21 = FloatVector.fromArray(F, part, off + 2 * width + LANES);
            FloatVector a30 = FloatVector.fromArray(F, part, off + 3 * width);
            FloatVector a31 = FloatVector.fromArray(F, part, off + 3 * width + LANES);
            for (int i = ((p / 2) * k + c) * LANES; c < stop; c++, i += LANES) {
                IntVector v = widen(ByteVector.fromArray(B, nibbles, i));
                FloatVector w0 = low(v, d0, m0);
                FloatVector w1 = high(v, d1, m1);
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

    @Override
    long bytes() {
        return nibbles.length + 8L * scales.length;
    }
}
