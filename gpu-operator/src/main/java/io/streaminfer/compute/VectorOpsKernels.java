package io.streaminfer.compute;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Vector-API bodies of {@link VectorOps}; loaded only when the module is present. Same order, same bits. */
final class VectorOpsKernels {
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
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

    static void weightedSum(float[] weights, int n, float[] values, int valOff, int stride,
                            float[] out, int outOff, int width) {
        int i = 0;
        // 32 columns at a time stay in four registers across all n rows
        for (; i + 32 <= width; i += 32) {
            FloatVector o0 = FloatVector.zero(F8), o1 = o0, o2 = o0, o3 = o0;
            for (int t = 0; t < n; t++) {
                FloatVector w = FloatVector.broadcast(F8, weights[t]);
                int v = valOff + t * stride + i;
                o0 = w.fma(FloatVector.fromArray(F8, values, v), o0);
                o1 = w.fma(FloatVector.fromArray(F8, values, v + 8), o1);
                o2 = w.fma(FloatVector.fromArray(F8, values, v + 16), o2);
                o3 = w.fma(FloatVector.fromArray(F8, values, v + 24), o3);
            }
            o0.intoArray(out, outOff + i);
            o1.intoArray(out, outOff + i + 8);
            o2.intoArray(out, outOff + i + 16);
            o3.intoArray(out, outOff + i + 24);
        }
        for (; i + 8 <= width; i += 8) {
            FloatVector o0 = FloatVector.zero(F8);
            for (int t = 0; t < n; t++) {
                o0 = FloatVector.broadcast(F8, weights[t]).fma(FloatVector.fromArray(F8, values, valOff + t * stride + i), o0);
            }
            o0.intoArray(out, outOff + i);
        }
        for (; i < width; i++) {
            float o = 0f;
            for (int t = 0; t < n; t++) {
                o = Math.fma(weights[t], values[valOff + t * stride + i], o);
            }
            out[outOff + i] = o;
        }
    }
}
