package io.streaminfer.compute;

/**
 * Per-row helpers for attention and RMSNorm, each in one fixed order, so a row's bits never depend on the
 * batch. The order (the same whether or not the Vector API is loaded; the two paths are bitwise equal):
 * <ul>
 *   <li>{@code dot}: lane l (0..7) accumulates {@code fma(a[i], b[i], acc_l)} over i = 8q + l for the full
 *       groups of 8, in increasing q; the lanes are summed as ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)); the
 *       remaining {@code n % 8} elements are then fma-ed onto that sum in increasing i.</li>
 *   <li>{@code sumOfSquares(a)} is {@code dot(a, a)}.</li>
 *   <li>{@code axpy}: {@code y[i] = fma(alpha, x[i], y[i])} for each i.</li>
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

    /** y[yOff + i] += alpha * x[xOff + i] for i &lt; n, as one fma per element. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        checkRange("x", x, xOff, n);
        checkRange("y", y, yOff, n);
        if (VECTOR) {
            VectorOpsKernels.axpy(alpha, x, xOff, y, yOff, n);
        } else {
            axpyScalar(alpha, x, xOff, y, yOff, n);
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

    static void axpyScalar(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
        }
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
