package io.streaminfer.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Every backend computes x·Wᵀ: each result is within 1e-5 of the summed magnitudes |x||w| of a double
 * reference (float error bound for k up to a few thousand), and vector equals scalar bitwise.
 */
class MatmulAgreementTest {
    private static final double RELATIVE_TOLERANCE = 1e-5;

    private static final int[][] SHAPES = { // {m, n, k, segments}
        {1, 1, 43, 1}, {3, 1, 43, 1}, {1, 17, 43, 1}, {5, 9, 7, 7}, {7, 24, 96, 4}, {70, 41, 43, 1},
        {13, 203, 672, 8}, {64, 288, 288, 2}, {9, 26, 300, 3}, {2, 3, 1, 1}, {33, 64, 520, 4},
    };

    /** A shape of {@link #SHAPES} with random operands x (m, k) and w (n, k). */
    private record Case(int m, int n, int k, int segments, float[] x, float[] w) {}

    /** Every shape, its operands drawn in order from one seeded stream. */
    private static List<Case> cases(long seed) {
        Random random = new Random(seed);
        List<Case> cases = new ArrayList<>();
        for (int[] shape : SHAPES) {
            int m = shape[0], n = shape[1], k = shape[2];
            float[] x = MatrixFixtures.random(random, m * k);
            float[] w = MatrixFixtures.random(random, n * k);
            cases.add(new Case(m, n, k, shape[3], x, w));
        }
        return cases;
    }

    @Test
    void allBackendsMatchTheDoubleReference() {
        for (Case c : cases(11)) {
            int m = c.m(), n = c.n(), k = c.k(), segments = c.segments();
            float[] x = c.x(), w = c.w();
            double[] expected = MatrixFixtures.reference(x, m, w, n, k);
            for (String name : Backends.NAMES) {
                for (int threads : new int[] {1, 2}) {
                    try (MatmulKernel backend = Backends.kernel(name, threads)) {
                        float[] got = MatrixFixtures.product(backend, x, m, w, n, k, segments);
                        for (int r = 0; r < m; r++) {
                            for (int j = 0; j < n; j++) {
                                double bound = RELATIVE_TOLERANCE * MatrixFixtures.magnitude(x, r, w, j, k) + 1e-30;
                                double error = Math.abs(got[r * n + j] - expected[r * n + j]);
                                assertTrue(error <= bound, () -> name + " m=" + m + " n=" + n + " k=" + k
                                        + " differs from the reference by " + error + " > " + bound);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void vectorEqualsScalarBitwise() {
        for (Case c : cases(12)) {
            try (MatmulKernel scalar = new ScalarMatmul(); MatmulKernel vector = new VectorMatmul(2, 0)) {
                float[] expected = MatrixFixtures.product(scalar, c.x(), c.m(), c.w(), c.n(), c.k(), c.segments());
                float[] got = MatrixFixtures.product(vector, c.x(), c.m(), c.w(), c.n(), c.k(), c.segments());
                assertArrayEquals(expected, got, 0f,
                        "m=" + c.m() + " n=" + c.n() + " k=" + c.k() + " segments=" + c.segments());
            }
        }
    }

    @Test
    void scalarOrderIsSegmentedFmaChainsCombinedByTheTree() {
        // Worked by hand: products that differ wildly in magnitude make the order visible.
        float[] w = {1f, 1f, 1f, 1f};
        try (MatmulKernel scalar = new ScalarMatmul(); MatmulKernel vector = new VectorMatmul()) {
            float[] y = {1e8f, 1f, -1e8f, 1f};
            for (MatmulKernel backend : new MatmulKernel[] {scalar, vector}) {
                // One chain: ((1e8 + 1) - 1e8) + 1 = (1e8 - 1e8) + 1 = 1.
                assertEquals(1f, MatrixFixtures.product(backend, y, 1, w, 1, 4, 1)[0], backend.name());
                // Two segments: p0 = 1e8 + 1 = 1e8, p1 = -1e8 + 1 = -1e8; p0 + p1 = 0.
                assertEquals(0f, MatrixFixtures.product(backend, y, 1, w, 1, 4, 2)[0], backend.name());
                // Four segments: (1e8 + 1) + (-1e8 + 1) = 1e8 + -1e8 = 0; a left-to-right sum would give 1.
                assertEquals(0f, MatrixFixtures.product(backend, y, 1, w, 1, 4, 4)[0], backend.name());
            }
        }
    }

    @Test
    void columnSlicePackingReadsTheSliceOnly() {
        Random random = new Random(13);
        int n = 19, kFull = 96, m = 6;
        float[] full = MatrixFixtures.random(random, n * kFull);
        int from = 40, k = 24;
        // The same slice, copied densely by hand.
        float[] dense = new float[n * k];
        for (int j = 0; j < n; j++) {
            System.arraycopy(full, j * kFull + from, dense, j * k, k);
        }
        float[] x = MatrixFixtures.random(random, m * k);
        for (String name : Backends.NAMES) {
            try (MatmulKernel backend = Backends.kernel(name, 1)) {
                float[] expected = MatrixFixtures.product(backend, x, m, dense, n, k, 3);
                PackedMatrix slice = backend.pack(FloatBuffer.wrap(full).position(from), n, k, kFull, 3);
                float[] got = new float[m * n];
                backend.matmul(x, m, slice, got);
                assertArrayEquals(expected, got, 0f, name);
                assertEquals(n, slice.rows());
                assertEquals(k, slice.cols());
                assertEquals(3, slice.segments());
                assertTrue(slice.bytes() >= 4L * n * k, name + " bytes");
            }
        }
    }

    @Test
    void directBuffersPackLikeHeapBuffers() {
        Random random = new Random(14);
        int n = 10, k = 40, m = 3;
        float[] w = MatrixFixtures.random(random, n * k);
        FloatBuffer direct = java.nio.ByteBuffer.allocateDirect(4 * w.length)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        direct.put(w).flip();
        float[] x = MatrixFixtures.random(random, m * k);
        try (MatmulKernel vector = new VectorMatmul()) {
            float[] expected = MatrixFixtures.product(vector, x, m, w, n, k, 2);
            float[] got = new float[m * n];
            vector.matmul(x, m, vector.pack(direct, n, k, k, 2), got);
            assertArrayEquals(expected, got, 0f);
        }
    }
}
