package io.streaminfer.compute;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * 4-bit values 0..15, two consecutive columns per byte (the even one in the low nibble), in panel order, with a
 * float scale d and a float min m per block of 32 columns: weight = d * v - m (a multiply, then a
 * subtraction, each rounded, as ggml's scalar {@code dequantize_row_q4_K}).
 * <ul>
 *   <li>Q4_K: d and m are its sub-block's d * scale and dmin * min.</li>
 *   <li>Q4_0: d is the block's scale and m = 8 * d. Its weight (v - 8) * d is exact in a float, and so are
 *       d * v, 8 * d and their difference, so d * v - m is the same float (a zero weight may come out +0
 *       where (v - 8) * d is -0; an fma chain that starts at +0 cannot tell them apart).</li>
 * </ul>
 * Segments must start and end on even columns for the fused kernels ({@link #fusable}).
 */
final class NibblePanels extends CompressedPanels {
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;

    private final byte[] nibbles; // (stored panels, k / 2, 8)
    private final float[] scales; // (stored panels, k / 32, 8)
    private final float[] mins;   // (stored panels, k / 32, 8)

    NibblePanels(int panels, int k) {
        super(panels, k);
        int stored = storedPanels(panels);
        this.nibbles = new byte[Math.multiplyExact(Math.multiplyExact(stored, k / 2), LANES)];
        this.scales = new float[Math.multiplyExact(stored * (k / 32), LANES)];
        this.mins = new float[scales.length];
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
                mins[block] = 8 * d;
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
                    mins[block + j * LANES] = dmin * Dequantize.q4KMin(source, src + 4, j);
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
        for (int c = 0; c < k; c += 2) {
            nibbles[(panel * (k / 2) + c / 2) * LANES + lane] = (byte) (v[c] | (v[c + 1] << 4));
        }
    }

    private static FloatVector low(ByteVector b, FloatVector d, FloatVector m) {
        return ((FloatVector) b.and((byte) 15).convertShape(VectorOperators.B2F, F8, 0)).mul(d).sub(m);
    }

    private static FloatVector high(ByteVector b, FloatVector d, FloatVector m) {
        return ((FloatVector) b.lanewise(VectorOperators.LSHR, 4).and((byte) 15)
                .convertShape(VectorOperators.B2F, F8, 0)).mul(d).sub(m);
    }

    @Override
    boolean fusable(int c0, int len) {
        return c0 % 2 == 0 && len % 2 == 0;
    }

    @Override
    void expand(int from, int to, float[] dst) {
        int blocks = k / 32;
        int out = 0;
        for (int p = from; p < to; p++) {
            for (int q = 0; q < blocks; q++) {
                int s = (p * blocks + q) * LANES;
                FloatVector d = FloatVector.fromArray(F8, scales, s);
                FloatVector m = FloatVector.fromArray(F8, mins, s);
                int in = (p * (k / 2) + q * 16) * LANES;
                for (int i = 0; i < 16; i++, in += LANES, out += 2 * LANES) {
                    ByteVector b = ByteVector.fromArray(B8, nibbles, in);
                    low(b, d, m).intoArray(dst, out);
                    high(b, d, m).intoArray(dst, out + LANES);
                }
            }
        }
    }

    @Override
    void dot1(float[] x, int x0, int p, int c0, int len, float[] part, int off) {
        int blocks = k / 32;
        int stride = k / 2 * LANES;
        int scaleStride = blocks * LANES;
        FloatVector a0 = FloatVector.zero(F8), a1 = FloatVector.zero(F8);
        FloatVector a2 = FloatVector.zero(F8), a3 = FloatVector.zero(F8);
        int end = c0 + len;
        for (int c = c0; c < end; ) {
            int q = c / 32;
            int stop = Math.min(end, (q + 1) * 32); // one block's run of the segment
            int s = (p * blocks + q) * LANES;
            FloatVector d0 = FloatVector.fromArray(F8, scales, s);
            FloatVector d1 = FloatVector.fromArray(F8, scales, s + scaleStride);
            FloatVector d2 = FloatVector.fromArray(F8, scales, s + 2 * scaleStride);
            FloatVector d3 = FloatVector.fromArray(F8, scales, s + 3 * scaleStride);
            FloatVector m0 = FloatVector.fromArray(F8, mins, s);
            FloatVector m1 = FloatVector.fromArray(F8, mins, s + scaleStride);
            FloatVector m2 = FloatVector.fromArray(F8, mins, s + 2 * scaleStride);
            FloatVector m3 = FloatVector.fromArray(F8, mins, s + 3 * scaleStride);
            for (int i = (p * (k / 2) + c / 2) * LANES; c < stop; c += 2, i += LANES) {
                FloatVector even = FloatVector.broadcast(F8, x[x0 + c]);
                FloatVector odd = FloatVector.broadcast(F8, x[x0 + c + 1]);
                ByteVector v0 = ByteVector.fromArray(B8, nibbles, i);
                ByteVector v1 = ByteVector.fromArray(B8, nibbles, i + stride);
                ByteVector v2 = ByteVector.fromArray(B8, nibbles, i + 2 * stride);
                ByteVector v3 = ByteVector.fromArray(B8, nibbles, i + 3 * stride);
                a0 = high(v0, d0, m0).fma(odd, low(v0, d0, m0).fma(even, a0));
                a1 = high(v1, d1, m1).fma(odd, low(v1, d1, m1).fma(even, a1));
                a2 = high(v2, d2, m2).fma(odd, low(v2, d2, m2).fma(even, a2));
                a3 = high(v3, d3, m3).fma(odd, low(v3, d3, m3).fma(even, a3));
            }
        }
        a0.intoArray(part, off);
        a1.intoArray(part, off + LANES);
        a2.intoArray(part, off + 2 * LANES);
        a3.intoArray(part, off + 3 * LANES);
    }

    @Override
    void dot4(float[] x, int x0, int p, int c0, int len, float[] part, int off, int width) {
        int blocks = k / 32;
        int stride = k / 2 * LANES;
        int xb = x0 + k, xc = xb + k, xd = xc + k;
        FloatVector a00 = FloatVector.zero(F8), a01 = FloatVector.zero(F8);
        FloatVector a10 = FloatVector.zero(F8), a11 = FloatVector.zero(F8);
        FloatVector a20 = FloatVector.zero(F8), a21 = FloatVector.zero(F8);
        FloatVector a30 = FloatVector.zero(F8), a31 = FloatVector.zero(F8);
        int end = c0 + len;
        for (int c = c0; c < end; ) {
            int q = c / 32;
            int stop = Math.min(end, (q + 1) * 32);
            int s = (p * blocks + q) * LANES;
            FloatVector d0 = FloatVector.fromArray(F8, scales, s);
            FloatVector d1 = FloatVector.fromArray(F8, scales, s + blocks * LANES);
            FloatVector m0 = FloatVector.fromArray(F8, mins, s);
            FloatVector m1 = FloatVector.fromArray(F8, mins, s + blocks * LANES);
            for (int i = (p * (k / 2) + c / 2) * LANES; c < stop; c += 2, i += LANES) {
                ByteVector v0 = ByteVector.fromArray(B8, nibbles, i);
                ByteVector v1 = ByteVector.fromArray(B8, nibbles, i + stride);
                for (int half = 0; half < 2; half++) {
                    FloatVector w0 = half == 0 ? low(v0, d0, m0) : high(v0, d0, m0);
                    FloatVector w1 = half == 0 ? low(v1, d1, m1) : high(v1, d1, m1);
                    int col = c + half;
                    FloatVector b = FloatVector.broadcast(F8, x[x0 + col]);
                    a00 = w0.fma(b, a00);
                    a01 = w1.fma(b, a01);
                    b = FloatVector.broadcast(F8, x[xb + col]);
                    a10 = w0.fma(b, a10);
                    a11 = w1.fma(b, a11);
                    b = FloatVector.broadcast(F8, x[xc + col]);
                    a20 = w0.fma(b, a20);
                    a21 = w1.fma(b, a21);
                    b = FloatVector.broadcast(F8, x[xd + col]);
                    a30 = w0.fma(b, a30);
                    a31 = w1.fma(b, a31);
                }
            }
        }
        store4(part, off, width, a00, a01, a10, a11, a20, a21, a30, a31);
    }

    @Override
    long bytes() {
        return nibbles.length + 8L * scales.length;
    }
}
