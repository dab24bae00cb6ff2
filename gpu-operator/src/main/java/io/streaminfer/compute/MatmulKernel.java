package io.streaminfer.compute;

import java.nio.FloatBuffer;

/**
 * Matrix products for one rank of a replica: {@code out = x · Wᵀ}, with W stored as [n][k] (rows are
 * output features, as in the llama2.c checkpoint).
 *
 * <p>Contract every implementation states through {@link #batchInvariant()}: when true, row i of
 * {@code out} is bitwise the same whatever {@code m} is and wherever the row sits in {@code x}. The
 * reduction over k is split into {@code segments} equal segments combined by
 * {@link io.streaminfer.comm.FixedOrder}; that is what makes row-parallel layers TP-invariant.
 *
 * <p>A backend owns its threads (never the common ForkJoinPool) and is used by one rank thread at a time.
 */
public interface MatmulKernel extends AutoCloseable {

    /** Short name for logs and benchmarks, e.g. {@code vector}, {@code openblas}, {@code scalar}. */
    String name();

    /** Whether rows are computed independently of the batch, bitwise (see the class comment). */
    boolean batchInvariant();

    /**
     * Prepares a weight matrix for repeated products, once at load time. Element (i, j), i &lt; n,
     * j &lt; k, is read from {@code src.get(src.position() + i * rowStride + j)}; so a rank can cut a
     * row slice (rowStride = k) or a column slice (rowStride = full width) of a checkpoint tensor without
     * copying it first. {@code segments} must divide k.
     */
    PackedMatrix pack(FloatBuffer src, int n, int k, int rowStride, int segments);

    /**
     * Packs the row blocks stacked in the order given (all of the same width): output row r of the product
     * is then row r of the stack. A single fp32 block is packed straight from its tensor's memory; other
     * storage kinds are read through {@link WeightTensor#readRow}, the reference dequantization.
     */
    default PackedMatrix pack(int segments, WeightSlice... blocks) {
        int k = blocks[0].cols();
        int rows = 0;
        for (WeightSlice b : blocks) {
            if (b.cols() != k) {
                throw new IllegalArgumentException("pack: stacked blocks differ in width (" + k + " and "
                        + b.cols() + ", " + b.tensor().name() + ")");
            }
            rows += b.rows();
        }
        if (blocks.length == 1 && blocks[0].tensor().kind() == StorageKind.F32) {
            WeightSlice b = blocks[0];
            FloatBuffer view = b.tensor().floats();
            view.position(b.rowStart() * b.tensor().cols() + b.colStart());
            return pack(view, rows, k, b.tensor().cols(), segments);
        }
        // One contiguous (rows, k) block; it only lives until packed.
        float[] dense = new float[Math.multiplyExact(rows, k)];
        int at = 0;
        for (WeightSlice b : blocks) {
            for (int r = 0; r < b.rows(); r++) {
                b.readRow(r, dense, at);
                at += k;
            }
        }
        return pack(FloatBuffer.wrap(dense), rows, k, k, segments);
    }

    /**
     * {@code out[r * n + j] = sum over c of x[r * k + c] * W[j][c]} for r &lt; m, with the segment
     * order described above.
     */
    void matmul(float[] x, int m, PackedMatrix w, float[] out);

    /** A share of row-wise work: part {@code part} of {@code parts}. */
    @FunctionalInterface
    interface PartTask {
        void run(int part, int parts);
    }

    /** Threads this backend computes with (the caller included). */
    default int parallelism() {
        return 1;
    }

    /**
     * Runs {@code task} for every part on this backend's threads, the caller taking one, and returns when
     * all are done. For per-row work outside the products (attention): parts must write disjoint outputs,
     * and must not depend on how many parts there are.
     */
    default void parallel(PartTask task) {
        task.run(0, 1);
    }

    /** Releases threads and native memory. */
    @Override
    void close();
}
