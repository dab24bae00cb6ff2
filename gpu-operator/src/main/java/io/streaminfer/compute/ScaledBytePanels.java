package io.streaminfer.compute;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Signed byte values with one float scale per block of {@code block} columns, weight = scale * value:
 * Q8_0 (blocks of 32, the f16 scale) and Q6_K (its sub-blocks of 16, scale = d * the 8-bit sub-block scale,
 * value = the 6-bit quant - 32, as ggml's {@code dequantize_row_q6_K} multiplies them).
 */
final class ScaledBytePanels extends CompressedPanels {
    private static final VectorSpecies<Float> F = VectorShapes.WIDE_FLOATS;
    private static final VectorSpecies<Byte> B = VectorShapes.LANE_BYTES;

    private final int block;
    private final byte[] values;  // (stored panels, k, LANES)
    private final float[] scales; // (stored panels, k / block, LANES)

    ScaledBytePanels(int panels, int k, int block) {
        super(panels, k);
        this.block = block;
        int stored = storedPanels(panels);
        this.values = new byte[Math.multiplyExact(Math.multiplyExact(stored, k), LANES)];
        this.scales = new float[Math.multiplyExact(stored * (k / block), LANES)];
    }

    @Override
    void putRow(StorageKind kind, ByteBuffer source, int at, int panel, int lane) {
        int blocks = k / block;
        if (kind == StorageKind.Q8_0) {
            for (int q = 0; q < blocks; q++) {
                int src = at + q * 34;
                scales[(panel * blocks + q) * LANES + lane] = Half.toFloat(source.getShort(src));
                for (int i = 0; i < 32; i++) {
                    values[(panel * k + q * 32 + i) * LANES + lane] = source.get(src + 2 + i);
                }
            }
            return;
        }
        // Q6_K super-blocks of 256: see Dequantize.q6K for where each element's bits lie
        for (int s = 0; s < k / 256; s++) {
            int src = at + s * 210;
            float d = Half.toFloat(source.getShort(src + 208));
            for (int j = 0; j < 16; j++) {
                scales[(panel * blocks + s * 16 + j) * LANES + lane] = d * source.get(src + 192 + j);
            }
            for (int half = 0; half < 2; half++) {
                int ql = src + 64 * half;
                int qh = src + 128 + 32 * half;
                int e = panel * k + s * 256 + 128 * half;
                for (int l = 0; l < 32; l++) {
                    int low = source.get(ql + l) & 0xFF;
                    int lowNext = source.get(ql + l + 32) & 0xFF;
                    int high = source.get(qh + l) & 0xFF;
                    values[(e + l) * LANES + lane] = (byte) (((low & 0x0F) | ((high & 3) << 4)) - 32);
                    values[(e + l + 32) * LANES + lane] = (byte) (((lowNext & 0x0F) | (((high >>> 2) & 3) << 4)) - 32);
                    values[(e + l + 64) * LANES + lane] = (byte) (((low >>> 4) | (((high >>> 4) & 3) << 4)) - 32);
                    values[(e + l + 96) * LANES + lane] = (byte) (((lowNext >>> 4) | (((high >>> 6) & 3) << 4)) - 32);
                }
            }
        }
    }

    private static FloatVector decode(byte[] values, int i, FloatVector scale) {
        return ((FloatVector) ByteVector.fromArray(B, values, i).convertShape(VectorOperators.B2F, F, 0)).mul(scale);
    }

    @Override
    void expand(int from, int to, float[] dst) {
        int blocks = k / block;
        int out = 0;
        for (int p = from; p < to; p++) {
            for (int q = 0; q < blocks; q++) {
                FloatVector scale = FloatVector.fromArray(F, scales, (p * blocks + q) * LANES);
                int in = (p * k + q * block) * LANES;
                for (int i = 0; i < block; i++, in += LANES, out += LANES) {
                    decode(values, in, scale).intoArray(dst, out);
                }
            }
        }
    }

    @Override
    void expandRun(int p, int count, int c, int stop, float[] tile) {
        int blocks = k / block;
        for (int j = 0; j < count; j++) {
            for (int col = c, out = j * 32 * LANES; col < stop; col++, out += LANES) {
                FloatVector scale = FloatVector.fromArray(F, scales, ((p + j) * blocks + col / block) * LANES);
                decode(values, ((p + j) * k + col) * LANES, scale).intoArray(tile, out);
            }
        }
    }

    // The fused kernels below walk a segment one block at a time. Their accumulators go through part[] between
    // blocks: a vector carried around two nested loops defeats C2's box elimination on JDK 17 (it allocated
    // every iteration and ran 20x slower), one carried around a single loop does not.

    @Override
    void dot1(float[] x, int x0, int p, int c0, int len, float[] part, int off, float[] tile) {
        int blocks = k / block;
        int stride = k * LANES;
        int scaleStride = blocks * LANES;
        java.util.Arrays.fill(part, off, off + FUSED_PANELS * LANES, 0f);
        int end = c0 + len;
        if (FUSED_PANELS == 4) {
            dot1Four(x, x0, p, c0, end, part, off);
            return;
        }
        for (int c = c0; c < end; ) {
            int q = c / block;
            int stop = Math.min(end, (q + 1) * block); // one block's run of the segment
            int s = (p * blocks + q) * LANES;
            FloatVector d0 = FloatVector.fromArray(F, scales, s + 0 * scaleStride);
            FloatVector d1 = FloatVector.fromArray(F, scales, s + 1 * scaleStride);
            FloatVector d2 = FloatVector.fromArray(F, scales, s + 2 * scaleStride);
            FloatVector d3 = FloatVector.fromArray(F, scales, s + 3 * scaleStride);
            FloatVector d4 = FloatVector.fromArray(F, scales, s + 4 * scaleStride);
            FloatVector d5 = FloatVector.fromArray(F, scales, s + 5 * scaleStride);
            FloatVector d6 = FloatVector.fromArray(F, scales, s + 6 * scaleStride);
            FloatVector d7 = FloatVector.fromArray(F, scales, s + 7 * scaleStride);
            FloatVector a0 = FloatVector.fromArray(F, part, off + 0 * LANES);
            FloatVector a1 = FloatVector.fromArray(F, part, off + 1 * LANES);
            FloatVector a2 = FloatVector.fromArray(F, part, off + 2 * LANES);
            FloatVector a3 = FloatVector.fromArray(F, part, off + 3 * LANES);
            FloatVector a4 = FloatVector.fromArray(F, part, off + 4 * LANES);
            FloatVector a5 = FloatVector.fromArray(F, part, off + 5 * LANES);
            FloatVector a6 = FloatVector.fromArray(F, part, off + 6 * LANES);
            FloatVector a7 = FloatVector.fromArray(F, part, off + 7 * LANES);
            for (int i = (p * k + c) * LANES; c < stop; c++, i += LANES) {
                FloatVector b = FloatVector.broadcast(F, x[x0 + c]);
                a0 = decode(values, i + 0 * stride, d0).fma(b, a0);
                a1 = decode(values, i + 1 * stride, d1).fma(b, a1);
                a2 = decode(values, i + 2 * stride, d2).fma(b, a2);
                a3 = decode(values, i + 3 * stride, d3).fma(b, a3);
                a4 = decode(values, i + 4 * stride, d4).fma(b, a4);
                a5 = decode(values, i + 5 * stride, d5).fma(b, a5);
                a6 = decode(values, i + 6 * stride, d6).fma(b, a6);
                a7 = decode(values, i + 7 * stride, d7).fma(b, a7);
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

    /** dot1 with 16-lane panels: 4 of them, 4 chains. */
    private void dot1Four(float[] x, int x0, int p, int c0, int end, float[] part, int off) {
        int blocks = k / block;
        int stride = k * LANES;
        int scaleStride = blocks * LANES;
        for (int c = c0; c < end; ) {
            int q = c / block;
            int stop = Math.min(end, (q + 1) * block);
            int s = (p * blocks + q) * LANES;
            FloatVector d0 = FloatVector.fromArray(F, scales, s + 0 * scaleStride);
            FloatVector d1 = FloatVector.fromArray(F, scales, s + 1 * scaleStride);
            FloatVector d2 = FloatVector.fromArray(F, scales, s + 2 * scaleStride);
            FloatVector d3 = FloatVector.fromArray(F, scales, s + 3 * scaleStride);
            FloatVector a0 = FloatVector.fromArray(F, part, off + 0 * LANES);
            FloatVector a1 = FloatVector.fromArray(F, part, off + 1 * LANES);
            FloatVector a2 = FloatVector.fromArray(F, part, off + 2 * LANES);
            FloatVector a3 = FloatVector.fromArray(F, part, off + 3 * LANES);
            for (int i = (p * k + c) * LANES; c < stop; c++, i += LANES) {
                FloatVector b = FloatVector.broadcast(F, x[x0 + c]);
                a0 = decode(values, i + 0 * stride, d0).fma(b, a0);
                a1 = decode(values, i + 1 * stride, d1).fma(b, a1);
                a2 = decode(values, i + 2 * stride, d2).fma(b, a2);
                a3 = decode(values, i + 3 * stride, d3).fma(b, a3);
            }
            a0.intoArray(part, off + 0 * LANES);
            a1.intoArray(part, off + 1 * LANES);
            a2.intoArray(part, off + 2 * LANES);
            a3.intoArray(part, off + 3 * LANES);
        }
    }

    @Override
    void dot4(float[] x, int x0, int p, int c0, int len, float[] part, int off, int width, float[] tile) {
        int blocks = k / block;
        int stride = k * LANES;
        int xb = x0 + k, xc = xb + k, xd = xc + k;
        zero4(part, off, width);
        int end = c0 + len;
        for (int c = c0; c < end; ) {
            int q = c / block;
            int stop = Math.min(end, (q + 1) * block);
            int s = (p * blocks + q) * LANES;
            FloatVector d0 = FloatVector.fromArray(F, scales, s);
            FloatVector d1 = FloatVector.fromArray(F, scales, s + blocks * LANES);
            FloatVector a00 = FloatVector.fromArray(F, part, off);
            FloatVector a01 = FloatVector.fromArray(F, part, off + LANES);
            FloatVector a10 = FloatVector.fromArray(F, part, off + width);
            FloatVector a11 = FloatVector.fromArray(F, part, off + width + LANES);
            FloatVector a20 = FloatVector.fromArray(F, part, off + 2 * width);
            FloatVector a21 = FloatVector.fromArray(F, part, off + 2 * width + LANES);
            FloatVector a30 = FloatVector.fromArray(F, part, off + 3 * width);
            FloatVector a31 = FloatVector.fromArray(F, part, off + 3 * width + LANES);
            for (int i = (p * k + c) * LANES; c < stop; c++, i += LANES) {
                FloatVector w0 = decode(values, i, d0);
                FloatVector w1 = decode(values, i + stride, d1);
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

    /** Measured: two 1-row passes, 982 vs 631 tok/s padded (see FusedProduct). */
    @Override
    boolean pairAsFour() {
        return false;
    }

    @Override
    long bytes() {
        return values.length + 4L * scales.length;
    }
}
