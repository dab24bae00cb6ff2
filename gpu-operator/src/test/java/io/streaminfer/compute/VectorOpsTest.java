package io.streaminfer.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class VectorOpsTest {

    @Test
    void vectorAndScalarPathsAreBitwiseEqual() {
        Random random = new Random(3);
        for (int n = 0; n <= 70; n++) {
            float[] a = MatrixFixtures.random(random, n + 5);
            float[] b = MatrixFixtures.random(random, n + 3);
            float expected = VectorOps.dotScalar(a, 5, b, 3, n);
            assertEquals(Float.floatToRawIntBits(expected),
                    Float.floatToRawIntBits(VectorOpsKernels.dot(a, 5, b, 3, n)), "dot n=" + n);
            assertEquals(expected, VectorOps.dot(a, 5, b, 3, n), 0f);

            float[] y1 = MatrixFixtures.random(random, n + 2);
            float[] y2 = y1.clone();
            VectorOps.axpyScalar(0.37f, a, 5, y1, 2, n);
            VectorOpsKernels.axpy(0.37f, a, 5, y2, 2, n);
            assertArrayEquals(y1, y2, 0f, "axpy n=" + n);
        }
    }

    @Test
    void resultsMatchADoubleReference() {
        Random random = new Random(4);
        int n = 288;
        float[] a = MatrixFixtures.random(random, n);
        float[] b = MatrixFixtures.random(random, n);
        double dot = 0, squares = 0, magnitude = 0;
        for (int i = 0; i < n; i++) {
            dot += (double) a[i] * b[i];
            magnitude += Math.abs((double) a[i] * b[i]);
            squares += (double) a[i] * a[i];
        }
        assertEquals(dot, VectorOps.dot(a, 0, b, 0, n), 1e-6 * magnitude);
        assertEquals(squares, VectorOps.sumOfSquares(a, 0, n), 1e-6 * squares);
        float[] y = b.clone();
        VectorOps.axpy(-2f, a, 0, y, 0, n);
        for (int i = 0; i < n; i++) {
            assertEquals(b[i] - 2.0 * a[i], y[i], 1e-6 * (Math.abs(b[i]) + 2 * Math.abs(a[i])));
        }
    }

    @Test
    void dotUsesTheDocumentedOrder() {
        // 9 elements: lanes get 1e8, 1, -1e8, 0...; the lane tree gives (1e8 + 1) + (-1e8 + 0) = 0;
        // then the tail element 1 is added: 1. A left-to-right sum would give 2.
        float[] a = {1e8f, 1f, -1e8f, 0f, 0f, 0f, 0f, 0f, 1f};
        float[] ones = {1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f};
        assertEquals(1f, VectorOps.dot(a, 0, ones, 0, 9));
        assertEquals(1f, VectorOps.dotScalar(a, 0, ones, 0, 9));
    }

    @Test
    void rangesAreChecked() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VectorOps.dot(new float[4], 2, new float[8], 0, 3));
        assertTrue(e.getMessage().contains("range [2, 5)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> VectorOps.axpy(1f, new float[3], 0, new float[2], 0, 3));
    }
}
