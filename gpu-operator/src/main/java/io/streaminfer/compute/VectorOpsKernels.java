package io.streaminfer.compute;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Vector-API bodies of {@link VectorOps}; loaded only when the module is present. Same order, same bits. */
final class VectorOpsKernels {
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(VectorOps.ROUNDER);
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromValues(F8, 1, 0, 3, 2, 5, 4, 7, 6);
    private static final VectorShuffle<Float> SWAP_QUADS = VectorShuffle.fromValues(F8, 2, 3, 0, 1, 6, 7, 4, 5);
    private static final VectorShuffle<Float> SWAP_HALVES = VectorShuffle.fromValues(F8, 4, 5, 6, 7, 0, 1, 2, 3);

    private VectorOpsKernels() {}

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int full = n & ~7;
        FloatVector acc = FloatVector.zero(F8);
        for (int i = 0; i < full; i += 8) {
            acc = FloatVector.fromArray(F8, a, aOff + i).fma(FloatVector.fromArray(F8, b, bOff + i), acc);
        }
        // Fixed lane tree ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)), not reduceLanes (whose order is
        // unspecified): three swap-and-add steps, cheaper than extracting eight lanes.
        acc = acc.add(acc.rearrange(SWAP_PAIRS));
        acc = acc.add(acc.rearrange(SWAP_QUADS));
        acc = acc.add(acc.rearrange(SWAP_HALVES));
        float sum = acc.lane(0);
        for (int i = full; i < n; i++) {
            sum = Math.fma(a[aOff + i], b[bOff + i], sum);
        }
        return sum;
    }

    static void scoreBlocks(float[] q, int qOff, float[] keys, int keyOff, int headSize, int blocks,
                            float[] out, int outOff) {
        int blockFloats = headSize * 8;
        int b = 0;
        // four blocks at once: four independent fma chains hide the fma latency
        for (; b + 4 <= blocks; b += 4) {
            int k0 = keyOff + b * blockFloats;
            int k1 = k0 + blockFloats;
            int k2 = k1 + blockFloats;
            int k3 = k2 + blockFloats;
            FloatVector s0 = FloatVector.zero(F8), s1 = s0, s2 = s0, s3 = s0;
            for (int d = 0; d < headSize; d++) {
                FloatVector qd = FloatVector.broadcast(F8, q[qOff + d]);
                int o = d * 8;
                s0 = qd.fma(FloatVector.fromArray(F8, keys, k0 + o), s0);
                s1 = qd.fma(FloatVector.fromArray(F8, keys, k1 + o), s1);
                s2 = qd.fma(FloatVector.fromArray(F8, keys, k2 + o), s2);
                s3 = qd.fma(FloatVector.fromArray(F8, keys, k3 + o), s3);
            }
            s0.intoArray(out, outOff + b * 8);
            s1.intoArray(out, outOff + b * 8 + 8);
            s2.intoArray(out, outOff + b * 8 + 16);
            s3.intoArray(out, outOff + b * 8 + 24);
        }
        for (; b < blocks; b++) {
            int k0 = keyOff + b * blockFloats;
            FloatVector s0 = FloatVector.zero(F8);
            for (int d = 0; d < headSize; d++) {
                s0 = FloatVector.broadcast(F8, q[qOff + d]).fma(FloatVector.fromArray(F8, keys, k0 + d * 8), s0);
            }
            s0.intoArray(out, outOff + b * 8);
        }
    }

    static void weightedSum(float[] weights, int wOff, int n, float[] values, int valOff, int stride,
                            float[] out, int outOff, int width, boolean accumulate) {
        int i = 0;
        // As few passes over the n rows as possible, each with up to 8 accumulators in registers: one pass
        // for a 48- or 64-wide head. (A 32-wide pass plus two 8-wide ones measured 2.3 ms against 1.5 ms
        // for a 6-accumulator pass, batch 64 x 6 layers x 6 heads x 96 positions, one thread.)
        for (; i + 64 <= width; i += 64) {
            sum(8, weights, wOff, n, values, valOff + i, stride, out, outOff + i, accumulate);
        }
        if (i + 48 <= width) {
            sum(6, weights, wOff, n, values, valOff + i, stride, out, outOff + i, accumulate);
            i += 48;
        } else if (i + 32 <= width) {
            sum(4, weights, wOff, n, values, valOff + i, stride, out, outOff + i, accumulate);
            i += 32;
        }
        if (i + 16 <= width) {
            sum(2, weights, wOff, n, values, valOff + i, stride, out, outOff + i, accumulate);
            i += 16;
        }
        if (i + 8 <= width) {
            sum(1, weights, wOff, n, values, valOff + i, stride, out, outOff + i, accumulate);
            i += 8;
        }
        for (; i < width; i++) {
            float o = accumulate ? out[outOff + i] : 0f;
            for (int t = 0; t < n; t++) {
                o = Math.fma(weights[wOff + t], values[valOff + t * stride + i], o);
            }
            out[outOff + i] = o;
        }
    }

    /** The chains of {@code vectors} x 8 outputs; with {@code accumulate} they continue from out's values. */
    private static void sum(int vectors, float[] weights, int wOff, int n, float[] values, int v0, int stride,
                            float[] out, int o, boolean accumulate) {
        switch (vectors) {
            case 8 -> sum8(weights, wOff, n, values, v0, stride, out, o, accumulate);
            case 6 -> sum6(weights, wOff, n, values, v0, stride, out, o, accumulate);
            case 4 -> sum4(weights, wOff, n, values, v0, stride, out, o, accumulate);
            case 2 -> sum2(weights, wOff, n, values, v0, stride, out, o, accumulate);
            default -> sum1(weights, wOff, n, values, v0, stride, out, o, accumulate);
        }
    }

    private static FloatVector start(float[] out, int o, boolean accumulate) {
        return accumulate ? FloatVector.fromArray(F8, out, o) : FloatVector.zero(F8);
    }

    private static void sum8(float[] weights, int wOff, int n, float[] values, int v0, int stride,
                             float[] out, int o, boolean accumulate) {
        FloatVector a0 = start(out, o, accumulate);
        FloatVector a1 = start(out, o + 8, accumulate);
        FloatVector a2 = start(out, o + 16, accumulate);
        FloatVector a3 = start(out, o + 24, accumulate);
        FloatVector a4 = start(out, o + 32, accumulate);
        FloatVector a5 = start(out, o + 40, accumulate);
        FloatVector a6 = start(out, o + 48, accumulate);
        FloatVector a7 = start(out, o + 56, accumulate);
        for (int t = 0; t < n; t++) {
            FloatVector w = FloatVector.broadcast(F8, weights[wOff + t]);
            int v = v0 + t * stride;
            a0 = w.fma(FloatVector.fromArray(F8, values, v), a0);
            a1 = w.fma(FloatVector.fromArray(F8, values, v + 8), a1);
            a2 = w.fma(FloatVector.fromArray(F8, values, v + 16), a2);
            a3 = w.fma(FloatVector.fromArray(F8, values, v + 24), a3);
            a4 = w.fma(FloatVector.fromArray(F8, values, v + 32), a4);
            a5 = w.fma(FloatVector.fromArray(F8, values, v + 40), a5);
            a6 = w.fma(FloatVector.fromArray(F8, values, v + 48), a6);
            a7 = w.fma(FloatVector.fromArray(F8, values, v + 56), a7);
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + 8);
        a2.intoArray(out, o + 16);
        a3.intoArray(out, o + 24);
        a4.intoArray(out, o + 32);
        a5.intoArray(out, o + 40);
        a6.intoArray(out, o + 48);
        a7.intoArray(out, o + 56);
    }

    private static void sum6(float[] weights, int wOff, int n, float[] values, int v0, int stride,
                             float[] out, int o, boolean accumulate) {
        FloatVector a0 = start(out, o, accumulate);
        FloatVector a1 = start(out, o + 8, accumulate);
        FloatVector a2 = start(out, o + 16, accumulate);
        FloatVector a3 = start(out, o + 24, accumulate);
        FloatVector a4 = start(out, o + 32, accumulate);
        FloatVector a5 = start(out, o + 40, accumulate);
        for (int t = 0; t < n; t++) {
            FloatVector w = FloatVector.broadcast(F8, weights[wOff + t]);
            int v = v0 + t * stride;
            a0 = w.fma(FloatVector.fromArray(F8, values, v), a0);
            a1 = w.fma(FloatVector.fromArray(F8, values, v + 8), a1);
            a2 = w.fma(FloatVector.fromArray(F8, values, v + 16), a2);
            a3 = w.fma(FloatVector.fromArray(F8, values, v + 24), a3);
            a4 = w.fma(FloatVector.fromArray(F8, values, v + 32), a4);
            a5 = w.fma(FloatVector.fromArray(F8, values, v + 40), a5);
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + 8);
        a2.intoArray(out, o + 16);
        a3.intoArray(out, o + 24);
        a4.intoArray(out, o + 32);
        a5.intoArray(out, o + 40);
    }

    private static void sum4(float[] weights, int wOff, int n, float[] values, int v0, int stride,
                             float[] out, int o, boolean accumulate) {
        FloatVector a0 = start(out, o, accumulate);
        FloatVector a1 = start(out, o + 8, accumulate);
        FloatVector a2 = start(out, o + 16, accumulate);
        FloatVector a3 = start(out, o + 24, accumulate);
        for (int t = 0; t < n; t++) {
            FloatVector w = FloatVector.broadcast(F8, weights[wOff + t]);
            int v = v0 + t * stride;
            a0 = w.fma(FloatVector.fromArray(F8, values, v), a0);
            a1 = w.fma(FloatVector.fromArray(F8, values, v + 8), a1);
            a2 = w.fma(FloatVector.fromArray(F8, values, v + 16), a2);
            a3 = w.fma(FloatVector.fromArray(F8, values, v + 24), a3);
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + 8);
        a2.intoArray(out, o + 16);
        a3.intoArray(out, o + 24);
    }

    private static void sum2(float[] weights, int wOff, int n, float[] values, int v0, int stride,
                             float[] out, int o, boolean accumulate) {
        FloatVector a0 = start(out, o, accumulate);
        FloatVector a1 = start(out, o + 8, accumulate);
        for (int t = 0; t < n; t++) {
            FloatVector w = FloatVector.broadcast(F8, weights[wOff + t]);
            int v = v0 + t * stride;
            a0 = w.fma(FloatVector.fromArray(F8, values, v), a0);
            a1 = w.fma(FloatVector.fromArray(F8, values, v + 8), a1);
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + 8);
    }

    private static void sum1(float[] weights, int wOff, int n, float[] values, int v0, int stride,
                             float[] out, int o, boolean accumulate) {
        FloatVector a0 = start(out, o, accumulate);
        for (int t = 0; t < n; t++) {
            FloatVector w = FloatVector.broadcast(F8, weights[wOff + t]);
            int v = v0 + t * stride;
            a0 = w.fma(FloatVector.fromArray(F8, values, v), a0);
        }
        a0.intoArray(out, o);
    }

    /** VectorOps.expScalar, lane by lane, the same operations in the same order. */
    static void expShifted(float[] a, int off, int n, float shift) {
        int full = n & ~7;
        FloatVector lo = FloatVector.broadcast(F8, VectorOps.EXP_MIN);
        FloatVector hi = FloatVector.broadcast(F8, VectorOps.EXP_MAX);
        FloatVector log2e = FloatVector.broadcast(F8, VectorOps.LOG2E);
        FloatVector rounder = FloatVector.broadcast(F8, VectorOps.ROUNDER);
        FloatVector ln2Hi = FloatVector.broadcast(F8, -VectorOps.LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(F8, -VectorOps.LN2_LO);
        for (int i = 0; i < full; i += 8) {
            FloatVector arg = FloatVector.fromArray(F8, a, off + i).sub(shift);
            VectorMask<Float> flush = arg.compare(VectorOperators.LT, VectorOps.EXP_MIN);
            FloatVector x = arg.max(lo).min(hi); // the max only keeps the lanes about to be flushed finite
            FloatVector shifted = x.fma(log2e, rounder); // k + 1.5 * 2^23: k sits in the low mantissa bits
            FloatVector k = shifted.sub(rounder);
            FloatVector r = k.fma(ln2Hi, x);
            r = k.fma(ln2Lo, r);
            FloatVector z = r.mul(r);
            FloatVector p = FloatVector.broadcast(F8, VectorOps.P0).fma(r, FloatVector.broadcast(F8, VectorOps.P1))
                    .fma(r, FloatVector.broadcast(F8, VectorOps.P2))
                    .fma(r, FloatVector.broadcast(F8, VectorOps.P3))
                    .fma(r, FloatVector.broadcast(F8, VectorOps.P4))
                    .fma(r, FloatVector.broadcast(F8, VectorOps.P5));
            FloatVector y = p.fma(z, r).add(1f);
            // (int) k read from the bits of k + 1.5 * 2^23 (a float-to-int convert is not intrinsified on JDK 17)
            IntVector bits = ((IntVector) shifted.reinterpretAsInts()).sub(ROUNDER_BITS - 127)
                    .lanewise(VectorOperators.LSHL, 23);
            y.mul(bits.reinterpretAsFloats()).blend(0f, flush).intoArray(a, off + i);
        }
        for (int i = full; i < n; i++) {
            a[off + i] = VectorOps.expScalar(a[off + i] - shift);
        }
    }

    /** Two passes: the maximum (order-free, so exact), then the first index holding it. */
    static int argmax(float[] a, int off, int n) {
        int full = n & ~7;
        FloatVector max = FloatVector.broadcast(F8, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < full; i += 8) {
            max = max.max(FloatVector.fromArray(F8, a, off + i)); // a NaN lane stays NaN
        }
        float m = max.reduceLanes(VectorOperators.MAX);
        for (int i = full; i < n; i++) {
            m = Math.max(m, a[off + i]);
        }
        if (Float.isNaN(m)) {
            return -1;
        }
        for (int i = 0; i < full; i += 8) {
            VectorMask<Float> hit = FloatVector.fromArray(F8, a, off + i).compare(VectorOperators.EQ, m);
            if (hit.anyTrue()) {
                return i + hit.firstTrue();
            }
        }
        for (int i = full; i < n; i++) {
            if (a[off + i] == m) {
                return i;
            }
        }
        throw new AssertionError("the maximum " + m + " is not in the range");
    }
}
