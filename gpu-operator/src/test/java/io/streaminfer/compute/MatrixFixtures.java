package io.streaminfer.compute;

import java.nio.FloatBuffer;
import java.util.Random;

/** Random test data and a double-precision reference product. */
final class MatrixFixtures {
    private MatrixFixtures() {}

    static float[] random(Random random, int count) {
        float[] a = new float[count];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }

    static float[] product(MatmulKernel backend, float[] x, int m, float[] w, int n, int k, int segments) {
        PackedMatrix packed = backend.pack(FloatBuffer.wrap(w), n, k, k, segments);
        float[] out = new float[m * n];
        backend.matmul(x, m, packed, out);
        return out;
    }

    /** out = x·Wᵀ in double, for tolerance checks against an order-free reference. */
    static double[] reference(float[] x, int m, float[] w, int n, int k) {
        double[] out = new double[m * n];
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int c = 0; c < k; c++) {
                    sum += (double) x[r * k + c] * w[j * k + c];
                }
                out[r * n + j] = sum;
            }
        }
        return out;
    }

    /** Sum of |x[r][c] * W[j][c]|, the scale that float rounding errors grow with. */
    static double magnitude(float[] x, int r, float[] w, int j, int k) {
        double sum = 0;
        for (int c = 0; c < k; c++) {
            sum += Math.abs((double) x[r * k + c] * w[j * k + c]);
        }
        return sum;
    }
}
