package io.streaminfer.compute;

import java.nio.FloatBuffer;

/** Argument checks shared by the backends, so every backend names a bad argument the same way. */
final class MatmulChecks {
    private MatmulChecks() {}

    static void checkPack(FloatBuffer src, int n, int k, int rowStride, int segments) {
        if (src == null) {
            throw new IllegalArgumentException("pack: src is null");
        }
        if (n < 1 || k < 1) {
            throw new IllegalArgumentException("pack: n and k must be >= 1, got n=" + n + ", k=" + k);
        }
        if (rowStride < k) {
            throw new IllegalArgumentException("pack: rowStride (" + rowStride + ") must be >= k (" + k + ")");
        }
        if (segments < 1 || k % segments != 0) {
            throw new IllegalArgumentException(
                    "pack: segments (" + segments + ") must be >= 1 and divide k (" + k + ")");
        }
        long needed = (long) (n - 1) * rowStride + k;
        if (needed > src.remaining()) {
            throw new IllegalArgumentException("pack: an [" + n + "][" + k + "] matrix with rowStride " + rowStride
                    + " needs " + needed + " floats from the buffer position, but only " + src.remaining()
                    + " remain");
        }
    }

    static void checkMatmul(String backend, float[] x, int m, PackedMatrix w, float[] out) {
        if (x == null || out == null || w == null) {
            throw new IllegalArgumentException(backend + " matmul: x, w and out must not be null");
        }
        if (m < 0) {
            throw new IllegalArgumentException(backend + " matmul: m must be >= 0, got " + m);
        }
        long needX = (long) m * w.cols();
        if (x.length < needX) {
            throw new IllegalArgumentException(backend + " matmul: x holds " + x.length + " floats but m*k = " + m
                    + "*" + w.cols() + " = " + needX);
        }
        long needOut = (long) m * w.rows();
        if (out.length < needOut) {
            throw new IllegalArgumentException(backend + " matmul: out holds " + out.length + " floats but m*n = "
                    + m + "*" + w.rows() + " = " + needOut);
        }
    }

    static <T extends PackedMatrix> T own(String backend, Class<T> type, PackedMatrix w) {
        if (!type.isInstance(w)) {
            throw new IllegalArgumentException(backend + " matmul: the matrix was packed by another backend ("
                    + w.getClass().getSimpleName() + "); pack it with this backend");
        }
        return type.cast(w);
    }

    /** Reads element rows [0, n) x cols [0, k) of the strided source into a dense [n][k] array. */
    static void copyDense(FloatBuffer src, int n, int k, int rowStride, float[] dst) {
        FloatBuffer view = src.duplicate();
        int base = src.position();
        for (int i = 0; i < n; i++) {
            view.position(base + i * rowStride);
            view.get(dst, i * k, k);
        }
    }
}
