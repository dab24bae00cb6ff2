package io.streaminfer.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.comm.FixedOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The bitwise promises: batching and tensor parallelism never change a row. */
class InvarianceTest {
    private static final int POOL = 70;

    @Test
    void rowsAreBitwiseIndependentOfBatchSizeAndPosition() {
        // The test backends split every product over their threads, however small (see backend()).
        // 203 x 672 floats are 546 KB of panels: one thread walks them panel block by panel block (over
        // VectorMatmul's L2 budget), two threads (273 KB each) row block by row block; both orders are checked.
        checkBatchInvariance(203, 672, 8);
        checkBatchInvariance(41, 43, 1); // odd sizes, single thread path
        checkBatchInvariance(48, 64, 2); // whole 24-column blocks: the vector combine of 2 and 4 segments
        checkBatchInvariance(72, 96, 4);
    }

    @Test
    void rowSplitAcrossThreadsIsBatchInvariantToo() {
        // n = 5 gives one panel block, so two threads split the rows instead of the columns.
        checkBatchInvariance(5, 4096, 4);
    }

    private static void checkBatchInvariance(int n, int k, int segments) {
        Random random = new Random(n * 31L + k);
        float[] pool = MatrixFixtures.random(random, POOL * k); // (POOL, k)
        float[] w = MatrixFixtures.random(random, n * k);
        try (MatmulKernel scalar = new ScalarMatmul()) {
            PackedMatrix ws = scalar.pack(FloatBuffer.wrap(w), n, k, k, segments);
            float[][] alone = new float[POOL][n];
            for (int row = 0; row < POOL; row++) {
                scalar.matmul(Arrays.copyOfRange(pool, row * k, (row + 1) * k), 1, ws, alone[row]);
            }
            for (String name : new String[] {"scalar", "vector"}) {
                for (int threads : new int[] {1, 2}) {
                    try (MatmulKernel backend = backend(name, threads)) {
                        assertTrue(backend.batchInvariant());
                        PackedMatrix packed = backend.pack(FloatBuffer.wrap(w), n, k, k, segments);
                        for (int m = 1; m <= POOL; m++) {
                            // Rows start at a different pool row for each m, so each row visits many positions.
                            int first = (m * 17) % POOL;
                            float[] x = new float[m * k];
                            for (int i = 0; i < m; i++) {
                                System.arraycopy(pool, ((first + i) % POOL) * k, x, i * k, k);
                            }
                            float[] out = new float[m * n];
                            backend.matmul(x, m, packed, out);
                            for (int i = 0; i < m; i++) {
                                int row = (first + i) % POOL;
                                float[] got = Arrays.copyOfRange(out, i * n, (i + 1) * n);
                                int mm = m, ii = i;
                                assertArrayEquals(alone[row], got, 0f, () -> name + " threads=" + threads + " n=" + n
                                        + " k=" + k + ": row " + row + " at position " + ii + " of m=" + mm);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void compressedRowsAreBitwiseIndependentOfBatchSizeAndPositionAcrossTheFusedSwitch() {
        // Small batches over compressed weights take VectorMatmul's fused kernels, larger ones the expanded
        // panels; every row must equal the scalar twin's product on the dequantized weights, alone.
        int n = 76, k = 512, segments = 4, pool = 23, maxM = FusedProduct.MAX_ROWS + 12;
        for (StorageKind kind : new StorageKind[] {StorageKind.BF16, StorageKind.F16, StorageKind.Q8_0,
                StorageKind.Q4_0, StorageKind.Q4_K, StorageKind.Q6_K}) {
            Random random = new Random(kind.ordinal() * 13L);
            WeightTensor w = MatrixFixtures.randomTensor(kind, n, k, random);
            float[] xs = MatrixFixtures.random(random, pool * k); // (pool, k)
            float[][] alone = new float[pool][n];
            try (MatmulKernel scalar = new ScalarMatmul()) {
                PackedMatrix ws = scalar.pack(segments, WeightSlice.of(w));
                for (int row = 0; row < pool; row++) {
                    scalar.matmul(Arrays.copyOfRange(xs, row * k, (row + 1) * k), 1, ws, alone[row]);
                }
            }
            for (int threads : new int[] {1, 2}) {
                try (MatmulKernel vector = new VectorMatmul(threads, 0)) {
                    PackedMatrix packed = vector.pack(segments, WeightSlice.of(w));
                    for (int m = 1; m <= maxM; m++) {
                        int first = (m * 7) % pool;
                        float[] x = new float[m * k];
                        for (int i = 0; i < m; i++) {
                            System.arraycopy(xs, ((first + i) % pool) * k, x, i * k, k);
                        }
                        float[] out = new float[m * n];
                        vector.matmul(x, m, packed, out);
                        for (int i = 0; i < m; i++) {
                            int row = (first + i) % pool;
                            int mm = m, ii = i, t = threads;
                            assertArrayEquals(alone[row], Arrays.copyOfRange(out, i * n, (i + 1) * n), 0f,
                                    () -> kind + " threads=" + t + ": row " + row + " at position " + ii + " of m=" + mm);
                        }
                    }
                }
            }
        }
    }

    @Test
    void rowParallelSlicesCombinedByTheTreeEqualTheFullProduct() {
        // t must be a power of two dividing segments (or equal to segments): see ScalarMatmul's class comment.
        checkTensorParallel(288, 288, 8, new int[] {1, 2, 4, 8});
        checkTensorParallel(64, 768, 4, new int[] {1, 2, 4});
        checkTensorParallel(37, 120, 6, new int[] {1, 2, 6});
        checkTensorParallel(16, 96, 3, new int[] {1, 3});
    }

    private static void checkTensorParallel(int n, int kFull, int segments, int[] degrees) {
        Random random = new Random(n + 7L * kFull + segments);
        int m = 9;
        float[] x = MatrixFixtures.random(random, m * kFull); // (m, kFull)
        float[] w = MatrixFixtures.random(random, n * kFull); // (n, kFull)
        for (String name : new String[] {"scalar", "vector"}) {
            for (int threads : new int[] {1, 2}) {
                try (MatmulKernel backend = backend(name, threads)) {
                    float[] full = MatrixFixtures.product(backend, x, m, w, n, kFull, segments);
                    for (int t : degrees) {
                        int k = kFull / t;
                        float[][] partials = new float[t][];
                        for (int rank = 0; rank < t; rank++) {
                            PackedMatrix slice = backend.pack(FloatBuffer.wrap(w).position(rank * k), n, k, kFull,
                                    segments / t);
                            float[] xs = new float[m * k];
                            for (int r = 0; r < m; r++) {
                                System.arraycopy(x, r * kFull + rank * k, xs, r * k, k);
                            }
                            partials[rank] = new float[m * n];
                            backend.matmul(xs, m, slice, partials[rank]);
                        }
                        float[] combined = new float[m * n];
                        float[] parts = new float[t];
                        for (int e = 0; e < m * n; e++) {
                            for (int rank = 0; rank < t; rank++) {
                                parts[rank] = partials[rank][e];
                            }
                            combined[e] = FixedOrder.treeSum(parts, 0, 1, 0, t);
                        }
                        assertArrayEquals(full, combined, 0f, name + " threads=" + threads + " n=" + n + " k="
                                + kFull + " segments=" + segments + " tp=" + t);
                    }
                }
            }
        }
    }

    @Test
    void columnParallelSlicesEqualTheFullProduct() {
        Random random = new Random(5);
        int n = 100, k = 64, m = 11;
        float[] x = MatrixFixtures.random(random, m * k);
        float[] w = MatrixFixtures.random(random, n * k);
        try (MatmulKernel backend = new VectorMatmul(2, 0)) {
            float[] full = MatrixFixtures.product(backend, x, m, w, n, k, 4);
            for (int t : new int[] {2, 4}) {
                int nSlice = n / t;
                for (int rank = 0; rank < t; rank++) {
                    PackedMatrix slice = backend.pack(FloatBuffer.wrap(w).position(rank * nSlice * k), nSlice, k, k, 4);
                    float[] out = new float[m * nSlice];
                    backend.matmul(x, m, slice, out);
                    for (int r = 0; r < m; r++) {
                        float[] expected = Arrays.copyOfRange(full, r * n + rank * nSlice, r * n + (rank + 1) * nSlice);
                        assertArrayEquals(expected, Arrays.copyOfRange(out, r * nSlice, (r + 1) * nSlice), 0f);
                    }
                }
            }
        }
    }

    /** Vector backends that split even tiny products, so threads=2 is really exercised. */
    private static MatmulKernel backend(String name, int threads) {
        return name.equals("vector") ? new VectorMatmul(threads, 0) : Backends.kernel(name, threads);
    }

    @Test
    void openBlasSaysItIsNotBatchInvariant() {
        try (MatmulKernel backend = new OpenBlasMatmul()) {
            assertFalse(backend.batchInvariant());
        }
    }
}
