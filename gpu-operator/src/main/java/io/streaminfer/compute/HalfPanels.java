package io.streaminfer.compute;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * BF16 or F16 weights: the 16-bit patterns in panel order, widened to floats exactly (every half and bfloat16
 * value is a float). Each kind has its own final class so the JIT inlines its conversion into the kernels.
 */
abstract class HalfPanels extends CompressedPanels {
    static final VectorSpecies<Float> F = VectorShapes.WIDE_FLOATS;
    static final VectorSpecies<Integer> I = VectorShapes.LANE_INTS;
    static final VectorSpecies<Short> S = VectorShapes.LANE_SHORTS;

    final short[] bits; // (stored panels, k, LANES)

    HalfPanels(int panels, int k) {
        super(panels, k);
        this.bits = new short[Math.multiplyExact(Math.multiplyExact(storedPanels(panels), k), LANES)];
    }

    @Override
    void putRow(StorageKind kind, ByteBuffer source, int at, int panel, int lane) {
        int dst = panel * k * LANES + lane;
        for (int c = 0; c < k; c++) {
            bits[dst + c * LANES] = source.getShort(at + 2 * c);
        }
    }

    @Override
    long bytes() {
        return 2L * bits.length;
    }

    /** LANES 16-bit patterns from bits[i ..) sign-extended to ints. */
    static IntVector widen(short[] bits, int i) {
        return (IntVector) ShortVector.fromArray(S, bits, i).convertShape(VectorOperators.S2I, I, 0);
    }

    /** BF16: a value is the top half of its float; converted in registers by its own fused kernels. */
    static final class Bf16 extends HalfPanels {
        Bf16(int panels, int k) {
            super(panels, k);
        }

        private static FloatVector decode(short[] bits, int i) {
            return widen(bits, i).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }

        @Override
        void expand(int from, int to, float[] dst) {
            int begin = from * k * LANES;
            int end = to * k * LANES;
            for (int i = begin; i < end; i += LANES) {
                decode(bits, i).intoArray(dst, i - begin);
            }
        }

        @Override
        void expandRun(int p, int count, int c, int stop, float[] tile) {
            for (int j = 0; j < count; j++) {
                for (int col = c, i = ((p + j) * k + c) * LANES, out = j * 32 * LANES; col < stop;
                     col++, i += LANES, out += LANES) {
                    decode(bits, i).intoArray(tile, out);
                }
            }
        }

        @Override
        void dot1(float[] x, int x0, int p, int c0, int len, float[] part, int off, float[] tile) {
            int stride = k * LANES;
            int i = (p * k + c0) * LANES;
            if (FUSED_PANELS == 4) { // 16-lane panels: 4 chains
                FloatVector a0 = FloatVector.zero(F);
                FloatVector a1 = FloatVector.zero(F);
                FloatVector a2 = FloatVector.zero(F);
                FloatVector a3 = FloatVector.zero(F);
                for (int c = x0 + c0, end = c + len; c < end; c++, i += LANES) {
                    FloatVector b = FloatVector.broadcast(F, x[c]);
                    a0 = decode(bits, i + 0 * stride).fma(b, a0);
                    a1 = decode(bits, i + 1 * stride).fma(b, a1);
                    a2 = decode(bits, i + 2 * stride).fma(b, a2);
                    a3 = decode(bits, i + 3 * stride).fma(b, a3);
                }
                a0.intoArray(part, off + 0 * LANES);
                a1.intoArray(part, off + 1 * LANES);
                a2.intoArray(part, off + 2 * LANES);
                a3.intoArray(part, off + 3 * LANES);
                return;
            }
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            FloatVector a4 = FloatVector.zero(F);
            FloatVector a5 = FloatVector.zero(F);
            FloatVector a6 = FloatVector.zero(F);
            FloatVector a7 = FloatVector.zero(F);
            for (int c = x0 + c0, end = c + len; c < end; c++, i += LANES) {
                FloatVector b = FloatVector.broadcast(F, x[c]);
                a0 = decode(bits, i + 0 * stride).fma(b, a0);
                a1 = decode(bits, i + 1 * stride).fma(b, a1);
                a2 = decode(bits, i + 2 * stride).fma(b, a2);
                a3 = decode(bits, i + 3 * stride).fma(b, a3);
                a4 = decode(bits, i + 4 * stride).fma(b, a4);
                a5 = decode(bits, i + 5 * stride).fma(b, a5);
                a6 = decode(bits, i + 6 * stride).fma(b, a6);
                a7 = decode(bits, i + 7 * stride).fma(b, a7);
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

        @Override
        void dot4(float[] x, int x0, int p, int c0, int len, float[] part, int off, int width, float[] tile) {
            int stride = k * LANES;
            int i = (p * k + c0) * LANES;
            int xa = x0 + c0, xb = xa + k, xc = xb + k, xd = xc + k;
            FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F);
            FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F);
            FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F);
            FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F);
            for (int c = 0; c < len; c++, i += LANES) {
                FloatVector w0 = decode(bits, i);
                FloatVector w1 = decode(bits, i + stride);
                FloatVector b = FloatVector.broadcast(F, x[xa + c]);
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

    /**
     * F16: the exponent and mantissa bits moved up 13 and scaled by 2^112 (exact, subnormals included), the
     * sign put back, and infinities / NaNs given the all-ones exponent. The fused kernels expand runs first (see
     * {@link CompressedPanels#dot1}): this conversion is too many operations to inline four times.
     */
    static final class F16 extends HalfPanels {
        private static final FloatVector SCALE = FloatVector.broadcast(F, 0x1p112f);

        F16(int panels, int k) {
            super(panels, k);
        }

        private static FloatVector decode(short[] bits, int i) {
            IntVector h = widen(bits, i);
            IntVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
            FloatVector f = magnitude.reinterpretAsFloats().mul(SCALE);
            VectorMask<Integer> special = h.and(0x7C00).eq(0x7C00);
            return f.reinterpretAsInts().blend(magnitude.or(0x7F800000), special)
                    .or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
        }

        @Override
        void expand(int from, int to, float[] dst) {
            int begin = from * k * LANES;
            int end = to * k * LANES;
            for (int i = begin; i < end; i += LANES) {
                decode(bits, i).intoArray(dst, i - begin);
            }
        }

        @Override
        void expandRun(int p, int count, int c, int stop, float[] tile) {
            for (int j = 0; j < count; j++) {
                for (int col = c, i = ((p + j) * k + c) * LANES, out = j * 32 * LANES; col < stop;
                     col++, i += LANES, out += LANES) {
                    decode(bits, i).intoArray(tile, out);
                }
            }
        }
    }
}
