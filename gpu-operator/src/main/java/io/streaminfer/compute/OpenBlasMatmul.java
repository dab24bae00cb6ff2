package io.streaminfer.compute;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * OpenBLAS {@code cblas_sgemm} (and {@code cblas_sgemv} at m = 1) through JavaCPP: the fast path where
 * bitwise batch invariance is not asked for. OpenBLAS picks its blocking by m, so a row's bits change with
 * the batch; {@link #batchInvariant()} is false.
 *
 * <p>Weights live off-heap in a {@link FloatPointer} owned by the packed matrix (a float[] would be copied on
 * every call). A column slice (rowStride &gt; k) is copied into a dense buffer. {@code segments} is checked
 * but otherwise ignored: OpenBLAS sums k in its own order.
 *
 * <p>OpenBLAS runs one thread ({@code blas_set_num_threads(1)}, process-wide); with {@code threads > 1}
 * this backend splits the output columns over its own Java threads, each calling single-threaded sgemm.
 */
public final class OpenBlasMatmul extends ThreadedKernel {

    private final List<BlasMatrix> packed = new ArrayList<>();
    private FloatPointer xBuf = new FloatPointer(1); // (m, k), grown on demand
    private FloatPointer outBuf = new FloatPointer(1); // (m, n), grown on demand
    private boolean closed;

    /** Dense [n][k] row-major copy in native memory. */
    static final class BlasMatrix extends KernelMatrix {
        private final FloatPointer data; // (n, k)

        BlasMatrix(int n, int k, int segments, FloatPointer data) {
            super(n, k, segments);
            this.data = data;
        }

        @Override public long bytes() { return 4L * n * k; }
    }

    public OpenBlasMatmul() {
        this(1);
    }

    public OpenBlasMatmul(int threads) {
        super("openblas", false, singleThreadedBlas(threads));
    }

    @Override
    public synchronized PackedMatrix pack(FloatBuffer src, int n, int k, int rowStride, int segments) {
        MatmulChecks.checkPack(src, n, k, rowStride, segments);
        checkOpen();
        long count = (long) n * k;
        FloatPointer data = new FloatPointer(count);
        float[] row = new float[k];
        FloatBuffer view = src.duplicate();
        int base = src.position();
        for (int j = 0; j < n; j++) {
            view.position(base + j * rowStride);
            view.get(row, 0, k);
            data.getPointer((long) j * k).put(row, 0, k);
        }
        BlasMatrix matrix = new BlasMatrix(n, k, segments, data);
        packed.add(matrix);
        return matrix;
    }

    @Override
    public void matmul(float[] x, int m, PackedMatrix w, float[] out) {
        MatmulChecks.checkMatmul(name(), x, m, w, out);
        BlasMatrix b = MatmulChecks.own(name(), BlasMatrix.class, w);
        checkOpen();
        if (m == 0) {
            return;
        }
        int n = b.n;
        int k = b.k;
        if (xBuf.capacity() < (long) m * k) {
            xBuf.close();
            xBuf = new FloatPointer((long) m * k);
        }
        if (outBuf.capacity() < (long) m * n) {
            outBuf.close();
            outBuf = new FloatPointer((long) m * n);
        }
        FloatPointer xp = xBuf;
        FloatPointer op = outBuf;
        xp.put(x, 0, m * k);
        if (workers.parts() == 1 || (long) m * n * k < VectorMatmul.PARALLEL_MIN_FMAS) {
            product(xp, m, b, op, 0, n);
        } else {
            workers.run((part, count) -> {
                int lo = (int) ((long) n * part / count);
                int hi = (int) ((long) n * (part + 1) / count);
                product(xp, m, b, op, lo, hi);
            });
        }
        op.get(out, 0, m * n);
    }

    /** Output columns [lo, hi). */
    private static void product(FloatPointer x, int m, BlasMatrix w, FloatPointer out, int lo, int hi) {
        if (hi <= lo) {
            return;
        }
        int k = w.k;
        FloatPointer wSlice = w.data.getPointer((long) lo * k);
        if (m == 1) {
            // y[lo..hi) = W[lo..hi) · x
            openblas_nolapack.cblas_sgemv(CblasRowMajor, CblasNoTrans, hi - lo, k, 1f, wSlice, k, x, 1, 0f,
                    out.getPointer(lo), 1);
        } else {
            openblas_nolapack.cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, hi - lo, k, 1f, x, k,
                    wSlice, k, 0f, out.getPointer(lo), w.n);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("openblas backend is closed");
        }
    }

    /** OpenBLAS's own threads off (process-wide), before this kernel's threads start. */
    private static int singleThreadedBlas(int threads) {
        openblas_nolapack.blas_set_num_threads(1);
        return threads;
    }

    /** Frees native memory of every matrix this backend packed; they must not be used afterwards. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        super.close();
        for (BlasMatrix matrix : packed) {
            matrix.data.close();
        }
        packed.clear();
        xBuf.close();
        outBuf.close();
    }
}
