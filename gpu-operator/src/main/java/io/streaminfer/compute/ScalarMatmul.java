package io.streaminfer.compute;

import io.streaminfer.comm.FixedOrder;
import java.nio.FloatBuffer;

/**
 * The plain-Java reference, and the definition of the project's matmul order. For output (r, j), with the k
 * range cut into {@code segments} equal segments of length L:
 * <pre>
 *   partial[s] = 0; for c in [s*L, (s+1)*L): partial[s] = fma(x[r][c], W[j][c], partial[s])
 *   out[r][j]  = FixedOrder.treeSum(partial[0 .. segments))
 * </pre>
 * Each element depends only on its own row of x and column of W, so the result is batch-invariant, and
 * {@link VectorMatmul} follows the same order bitwise.
 *
 * <p>TP invariance: a rank holding k-slice [rank*k/t, (rank+1)*k/t) packed with {@code segments/t} computes
 * exactly the subtree of segment partials that the full product has there, and combining the t rank results
 * with {@code FixedOrder.treeSum} rebuilds the full tree when t is a power of two dividing {@code segments}
 * (the tree splits an even count in halves), or when t equals {@code segments}. Other t (e.g. 3 of 6) group
 * the segments differently and are not bitwise equal.
 *
 * <p>With {@code threads > 1} the rows are split over the backend's own threads; the order stays the same.
 */
public final class ScalarMatmul extends ThreadedKernel {

    private float[] partials = new float[0];

    /** A dense copy, [n][k] row-major. */
    static final class DenseMatrix extends KernelMatrix {
        private final float[] data; // (n, k)

        DenseMatrix(int n, int k, int segments, float[] data) {
            super(n, k, segments);
            this.data = data;
        }

        @Override public long bytes() { return 4L * data.length; }
    }

    public ScalarMatmul() {
        this(1);
    }

    public ScalarMatmul(int threads) {
        super("scalar", true, threads);
    }

    @Override
    public PackedMatrix pack(FloatBuffer src, int n, int k, int rowStride, int segments) {
        MatmulChecks.checkPack(src, n, k, rowStride, segments);
        float[] data = new float[Math.multiplyExact(n, k)];
        MatmulChecks.copyDense(src, n, k, rowStride, data);
        return new DenseMatrix(n, k, segments, data);
    }

    @Override
    public void matmul(float[] x, int m, PackedMatrix packed, float[] out) {
        MatmulChecks.checkMatmul(name(), x, m, packed, out);
        DenseMatrix w = MatmulChecks.own(name(), DenseMatrix.class, packed);
        workers.checkOpen();
        int parts = workers.parts();
        int segments = w.segments;
        if (partials.length < parts * segments) {
            partials = new float[parts * segments];
        }
        float[] scratch = partials;
        workers.run((part, count) -> {
            int lo = (int) ((long) m * part / count);
            int hi = (int) ((long) m * (part + 1) / count);
            for (int r = lo; r < hi; r++) {
                for (int j = 0; j < w.n; j++) {
                    out[r * w.n + j] = dot(x, r * w.k, w.data, j * w.k, w.k, segments, scratch, part * segments);
                }
            }
        });
    }

    /** One output element in the project order; {@code partials[pOff .. pOff+segments)} is scratch. */
    static float dot(float[] x, int xOff, float[] w, int wOff, int k, int segments, float[] partials, int pOff) {
        int len = k / segments;
        for (int s = 0; s < segments; s++) {
            float acc = 0f;
            int base = s * len;
            for (int c = base; c < base + len; c++) {
                acc = Math.fma(x[xOff + c], w[wOff + c], acc);
            }
            partials[pOff + s] = acc;
        }
        return segments == 1 ? partials[pOff] : FixedOrder.treeSum(partials, pOff, 1, 0, segments);
    }
}
