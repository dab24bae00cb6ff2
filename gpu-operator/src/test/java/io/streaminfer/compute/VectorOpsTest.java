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
        }
    }

    @Test
    void attentionKernelsMatchTheirScalarTwinsBitwise() {
        Random random = new Random(5);
        for (int headSize : new int[] {8, 13, 24, 40, 48, 64, 100}) { // every pass width of weightedSum
            for (int blocks = 0; blocks <= 9; blocks++) {
                float[] q = MatrixFixtures.random(random, headSize + 3);
                float[] keys = MatrixFixtures.random(random, blocks * headSize * 8 + 7);
                float[] expected = new float[blocks * 8 + 2];
                float[] actual = new float[blocks * 8 + 2];
                VectorOps.scoreBlocksScalar(q, 3, keys, 7, headSize, blocks, expected, 2);
                VectorOpsKernels.scoreBlocks(q, 3, keys, 7, headSize, blocks, actual, 2);
                assertArrayEquals(expected, actual, 0f, "scoreBlocks headSize=" + headSize + " blocks=" + blocks);
            }
            for (int n = 0; n <= 20; n += 3) {
                int stride = headSize * 2 + 5;
                float[] weights = MatrixFixtures.random(random, n);
                float[] values = MatrixFixtures.random(random, n * stride + 4);
                float[] expected = new float[headSize + 1];
                float[] actual = new float[headSize + 1];
                VectorOps.weightedSumScalar(weights, 0, n, values, 4, stride, expected, 1, headSize, false);
                VectorOpsKernels.weightedSum(weights, 0, n, values, 4, stride, actual, 1, headSize, false);
                assertArrayEquals(expected, actual, 0f, "weightedSum headSize=" + headSize + " n=" + n);
                // the same chains in two runs of rows (a paged cache's blocks), continued through out
                int split = n / 3;
                float[] scalarSplit = new float[headSize + 1];
                float[] kernelSplit = new float[headSize + 1];
                VectorOps.weightedSumScalar(weights, 0, split, values, 4, stride, scalarSplit, 1, headSize, false);
                VectorOps.weightedSumScalar(weights, split, n - split, values, 4 + split * stride, stride, scalarSplit,
                        1, headSize, true);
                VectorOpsKernels.weightedSum(weights, 0, split, values, 4, stride, kernelSplit, 1, headSize, false);
                VectorOpsKernels.weightedSum(weights, split, n - split, values, 4 + split * stride, stride,
                        kernelSplit, 1, headSize, true);
                assertArrayEquals(expected, scalarSplit, 0f, "scalar in two runs, headSize=" + headSize + " n=" + n);
                assertArrayEquals(expected, kernelSplit, 0f, "kernel in two runs, headSize=" + headSize + " n=" + n);
            }
        }
    }

    @Test
    void expMatchesItsScalarTwinBitwiseAndMathExpWithinTwoUlp() {
        Random random = new Random(8);
        float[] special = {0f, -0f, 1f, -1f, 88f, 88.5f, 100f, -87f, -87.5f, -200f, Float.NaN,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-30f, -1e-30f};
        int n = 4099;
        float[] x = new float[n + special.length];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextDouble() * 175 - 87);
        }
        System.arraycopy(special, 0, x, n, special.length);
        float[] viaKernel = x.clone();
        VectorOpsKernels.expShifted(viaKernel, 0, viaKernel.length, 0f);
        for (int i = 0; i < x.length; i++) {
            float scalar = VectorOps.expScalar(x[i]);
            assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(viaKernel[i]), "exp(" + x[i] + ")");
            if (x[i] >= -87f && x[i] <= 88f) {
                float exact = (float) Math.exp(x[i]);
                assertTrue(Math.abs(scalar - exact) <= 2 * Math.ulp(exact), "exp(" + x[i] + ") = " + scalar + ", not " + exact);
            }
        }
        assertTrue(Float.isNaN(VectorOps.expScalar(Float.NaN)));
        assertEquals(1f, VectorOps.expScalar(0f));
        assertEquals((float) Math.exp(88), VectorOps.expScalar(Float.POSITIVE_INFINITY), 2 * Math.ulp((float) Math.exp(88)));
        assertEquals(0f, VectorOps.expScalar(Float.NEGATIVE_INFINITY));
        assertEquals(0f, VectorOps.expScalar(-87.01f), "below -87 flushes to 0");
        double worst = 0;
        for (int i = 0; i <= 870_000; i++) {
            float v = -i / 10_000f;
            worst = Math.max(worst, Math.abs(VectorOps.expScalar(v) / Math.exp(v) - 1));
        }
        assertTrue(worst < 3e-7, "relative error " + worst);

        float[] shifted = {1f, 2f, 3f};
        VectorOps.expShifted(shifted, 1, 2, 3f);
        assertEquals(1f, shifted[0]);
        assertEquals(VectorOps.expScalar(-1f), shifted[1]);
        assertEquals(1f, shifted[2]);
    }

    @Test
    void argmaxFindsTheFirstMaximumLikeItsScalarTwin() {
        Random random = new Random(9);
        for (int n = 1; n <= 70; n++) {
            float[] a = new float[n + 3];
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextInt(7) - 3; // many ties
            }
            assertEquals(VectorOps.argmaxScalar(a, 3, n), VectorOpsKernels.argmax(a, 3, n), "n=" + n);
        }
        assertEquals(2, VectorOps.argmax(new float[] {1, 5, 7, 7, 7, 7, 7, 7, 7, 7}, 0, 10));
        assertEquals(9, VectorOps.argmax(new float[] {1, 5, 6, 6, 6, 6, 6, 6, 6, 8}, 0, 10), "max in the tail");
        assertEquals(0, VectorOps.argmax(new float[] {-0f, 0f, -1, -1, -1, -1, -1, -1, -1}, 0, 9), "-0 equals 0");
        assertEquals(4, VectorOps.argmax(new float[] {1, 2, 3, 4, Float.POSITIVE_INFINITY, 0, 0, 0, 0}, 0, 9));
        float[] withNaN = new float[20];
        withNaN[13] = Float.NaN;
        assertEquals(-1, VectorOps.argmax(withNaN, 0, 20));
        assertEquals(-1, VectorOps.argmaxScalar(withNaN, 0, 20));
    }

    @Test
    void attentionKernelsComputeScoresAndWeightedSums() {
        Random random = new Random(6);
        int headSize = 48;
        int positions = 21; // three blocks, the last one partly used
        float[] q = MatrixFixtures.random(random, headSize);
        float[][] k = new float[positions][];
        float[] keys = new float[3 * headSize * 8];
        for (int t = 0; t < positions; t++) {
            k[t] = MatrixFixtures.random(random, headSize);
            for (int d = 0; d < headSize; d++) {
                keys[(t / 8) * headSize * 8 + d * 8 + t % 8] = k[t][d];
            }
        }
        float[] scores = new float[24];
        VectorOps.scoreBlocks(q, 0, keys, 0, headSize, 3, scores, 0);
        for (int t = 0; t < positions; t++) {
            double dot = 0, magnitude = 0;
            for (int d = 0; d < headSize; d++) {
                dot += (double) q[d] * k[t][d];
                magnitude += Math.abs((double) q[d] * k[t][d]);
            }
            assertEquals(dot, scores[t], 1e-6 * magnitude, "score of position " + t);
        }
        float[] weights = MatrixFixtures.random(random, positions);
        float[] values = MatrixFixtures.random(random, positions * 2 * headSize);
        float[] out = new float[headSize];
        VectorOps.weightedSum(weights, positions, values, headSize, 2 * headSize, out, 0, headSize);
        for (int i = 0; i < headSize; i++) {
            double sum = 0, magnitude = 0;
            for (int t = 0; t < positions; t++) {
                double term = (double) weights[t] * values[headSize + t * 2 * headSize + i];
                sum += term;
                magnitude += Math.abs(term);
            }
            assertEquals(sum, out[i], 1e-6 * magnitude, "weighted sum column " + i);
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
        assertThrows(IllegalArgumentException.class,
                () -> VectorOps.weightedSum(new float[3], 3, new float[7], 0, 3, new float[2], 0, 2));
        assertThrows(IllegalArgumentException.class,
                () -> VectorOps.scoreBlocks(new float[8], 0, new float[63], 0, 8, 1, new float[8], 0));
    }
}
