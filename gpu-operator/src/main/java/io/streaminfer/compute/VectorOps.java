package io.streaminfer.compute;

/**
 * Per-row helpers for attention and RMSNorm, each in one fixed order, so a row's bits never depend on the
 * batch. The order (the same whether or not the Vector API is loaded; the two paths are bitwise equal):
 * <ul>
 *   <li>{@code dot}: lane l (0..7) accumulates {@code fma(a[i], b[i], acc_l)} over i = 8q + l for the full
 *       groups of 8, in increasing q; the lanes are summed as ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)); the
 *       remaining {@code n % 8} elements are then fma-ed onto that sum in increasing i.</li>
 *   <li>{@code sumOfSquares(a)} is {@code dot(a, a)}.</li>
 *   <li>{@code scoreBlocks}: each score is one fma chain {@code s = fma(q[d], key[d], s)} over d from 0,
 *       starting at 0.</li>
 *   <li>{@code weightedSum}: each output element is one fma chain {@code o = fma(w[t], v[t], o)} over t
 *       from 0, starting at 0.</li>
 *   <li>{@code exp}: the fixed sequence of float operations in {@link #expScalar}, element by element.</li>
 * </ul>
 */
public final class VectorOps {
    private static final boolean VECTOR = VectorSupport.available();

    private VectorOps() {}

    /** Sum of a[aOff + i] * b[bOff + i] for i &lt; n. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        checkRange("a", a, aOff, n);
        checkRange("b", b, bOff, n);
        return VECTOR ? VectorOpsKernels.dot(a, aOff, b, bOff, n) : dotScalar(a, aOff, b, bOff, n);
    }

    /** Sum of a[off + i]² for i &lt; n. */
    public static float sumOfSquares(float[] a, int off, int n) {
        return dot(a, off, a, off, n);
    }

    /**
     * Attention scores of {@code blocks} key blocks against one query head: for block b and lane j,
     * {@code out[outOff + 8b + j] = sum over d < headSize of q[qOff + d] * keys[keyOff + b*headSize*8 + d*8 + j]}.
     * Keys are laid out as in {@code CpuKvCache}: (block, feature, 8 positions).
     */
    public static void scoreBlocks(float[] q, int qOff, float[] keys, int keyOff, int headSize, int blocks,
                                   float[] out, int outOff) {
        checkRange("q", q, qOff, headSize);
        checkRange("keys", keys, keyOff, blocks * headSize * 8);
        checkRange("out", out, outOff, blocks * 8);
        if (VECTOR) {
            VectorOpsKernels.scoreBlocks(q, qOff, keys, keyOff, headSize, blocks, out, outOff);
        } else {
            scoreBlocksScalar(q, qOff, keys, keyOff, headSize, blocks, out, outOff);
        }
    }

    /**
     * {@code out[outOff + i] = sum over t < n of weights[t] * values[valOff + t*stride + i]} for i &lt; width:
     * the attention-weighted sum of n value rows that lie {@code stride} floats apart.
     */
    public static void weightedSum(float[] weights, int n, float[] values, int valOff, int stride,
                                   float[] out, int outOff, int width) {
        weightedSum(weights, 0, n, values, valOff, stride, out, outOff, width, false);
    }

    /**
     * The same chains over weights [wOff, wOff + n); with {@code accumulate} each output's chain continues
     * from the value out holds (a float stored and read back is exact), so a sum over several runs of rows
     * (a paged cache's blocks) has the bits of one chain over all of them.
     */
    public static void weightedSum(float[] weights, int wOff, int n, float[] values, int valOff, int stride,
                                   float[] out, int outOff, int width, boolean accumulate) {
        checkRange("weights", weights, wOff, n);
        checkRange("out", out, outOff, width);
        if (n > 0) {
            checkRange("values", values, valOff, (n - 1) * stride + width);
        }
        if (VECTOR) {
            VectorOpsKernels.weightedSum(weights, wOff, n, values, valOff, stride, out, outOff, width, accumulate);
        } else {
            weightedSumScalar(weights, wOff, n, values, valOff, stride, out, outOff, width, accumulate);
        }
    }

    /**
     * {@code a[off + i] = exp(a[off + i] - shift)} for i &lt; n, with this project's one exp: Cephes' expf
     * reduction and polynomial, float operations only (within 2 ulp of the true value for arguments in
     * [-87, 88]; below -87 it gives 0, above 88 exp(88)). It runs 8 lanes at a time and gives the same bits
     * with or without the Vector API, on every JVM and CPU; {@code Math.exp}'s intrinsics may differ by an
     * ulp between machines, which would let a request restored elsewhere drift.
     */
    public static void expShifted(float[] a, int off, int n, float shift) {
        checkRange("a", a, off, n);
        if (VECTOR) {
            VectorOpsKernels.expShifted(a, off, n, shift);
        } else {
            for (int i = 0; i < n; i++) {
                a[off + i] = expScalar(a[off + i] - shift);
            }
        }
    }

    /**
     * The first index of the largest of {@code a[off .. off + n)}, or -1 if any of them is NaN (-0.0 and 0.0
     * count as equal, as {@code >} sees them). n must be at least 1.
     */
    public static int argmax(float[] a, int off, int n) {
        checkRange("a", a, off, n);
        if (n < 1) {
            throw new IllegalArgumentException("argmax of an empty range");
        }
        return VECTOR ? VectorOpsKernels.argmax(a, off, n) : argmaxScalar(a, off, n);
    }

    static int argmaxScalar(float[] a, int off, int n) {
        int best = 0;
        for (int i = 0; i < n; i++) {
            float v = a[off + i];
            if (Float.isNaN(v)) {
                return -1;
            }
            if (v > a[off + best]) {
                best = i;
            }
        }
        return best;
    }

    // Cephes expf: exp(x) = 2^k * exp(r), k = round(x / ln 2), r = x - k ln 2 split in two parts.
    static final float EXP_MIN = -87f;
    static final float EXP_MAX = 88f;
    static final float LOG2E = 1.44269504088896341f;
    static final float LN2_HI = 0.693359375f;
    static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to an integer. */
    static final float ROUNDER = 12582912f;
    static final float P0 = 1.9875691500e-4f;
    static final float P1 = 1.3981999507e-3f;
    static final float P2 = 8.3334519073e-3f;
    static final float P3 = 4.1665795894e-2f;
    static final float P4 = 1.6666665459e-1f;
    static final float P5 = 5.0000001201e-1f;

    /** The one exp of the project, operation for operation what the vector kernel does per lane. */
    public static float expScalar(float x) {
        if (x < EXP_MIN) {
            return 0f;
        }
        x = Math.min(x, EXP_MAX); // NaN stays NaN
        float k = Math.fma(x, LOG2E, ROUNDER) - ROUNDER;
        float r = Math.fma(k, -LN2_HI, x);
        r = Math.fma(k, -LN2_LO, r);
        float z = r * r;
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(P0, r, P1), r, P2), r, P3), r, P4), r, P5);
        float y = Math.fma(p, z, r) + 1f;
        return y * Float.intBitsToFloat(((int) k + 127) << 23);
    }

    static void scoreBlocksScalar(float[] q, int qOff, float[] keys, int keyOff, int headSize, int blocks,
                                  float[] out, int outOff) {
        for (int b = 0; b < blocks; b++) {
            int block = keyOff + b * headSize * 8;
            for (int j = 0; j < 8; j++) {
                float s = 0f;
                for (int d = 0; d < headSize; d++) {
                    s = Math.fma(q[qOff + d], keys[block + d * 8 + j], s);
                }
                out[outOff + b * 8 + j] = s;
            }
        }
    }

    static void weightedSumScalar(float[] weights, int wOff, int n, float[] values, int valOff, int stride,
                                  float[] out, int outOff, int width, boolean accumulate) {
        for (int i = 0; i < width; i++) {
            float o = accumulate ? out[outOff + i] : 0f;
            for (int t = 0; t < n; t++) {
                o = Math.fma(weights[wOff + t], values[valOff + t * stride + i], o);
            }
            out[outOff + i] = o;
        }
    }

    static float dotScalar(float[] a, int aOff, float[] b, int bOff, int n) {
        float l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0;
        int full = n & ~7;
        for (int i = 0; i < full; i += 8) {
            int ia = aOff + i;
            int ib = bOff + i;
            l0 = Math.fma(a[ia], b[ib], l0);
            l1 = Math.fma(a[ia + 1], b[ib + 1], l1);
            l2 = Math.fma(a[ia + 2], b[ib + 2], l2);
            l3 = Math.fma(a[ia + 3], b[ib + 3], l3);
            l4 = Math.fma(a[ia + 4], b[ib + 4], l4);
            l5 = Math.fma(a[ia + 5], b[ib + 5], l5);
            l6 = Math.fma(a[ia + 6], b[ib + 6], l6);
            l7 = Math.fma(a[ia + 7], b[ib + 7], l7);
        }
        float sum = ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7));
        for (int i = full; i < n; i++) {
            sum = Math.fma(a[aOff + i], b[bOff + i], sum);
        }
        return sum;
    }

    static boolean usesVectorApi() {
        return VECTOR;
    }

    private static void checkRange(String name, float[] array, int off, int n) {
        if (array == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        if (off < 0 || n < 0 || (long) off + n > array.length) {
            throw new IllegalArgumentException(name + ": range [" + off + ", " + ((long) off + n)
                    + ") is outside an array of length " + array.length);
        }
    }
}
