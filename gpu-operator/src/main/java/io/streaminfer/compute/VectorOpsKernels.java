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

    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int full = n & ~7;
        FloatVector va = FloatVector.broadcast(F8, alpha);
        for (int i = 0; i < full; i += 8) {
            va.fma(FloatVector.fromArray(F8, x, xOff + i), FloatVector.fromArray(F8, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (int i = full; i < n; i++) {
            y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
        }
    }
}
