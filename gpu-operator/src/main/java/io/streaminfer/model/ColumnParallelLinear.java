package io.streaminfer.model;

import io.streaminfer.compute.ComputeBackend;
import io.streaminfer.compute.PackedMatrix;
import java.nio.FloatBuffer;

/**
 * A linear layer split along its output features (the columns of Y = X·Wᵀ): this rank holds a block of
 * W's rows and produces the matching slice of Y, with no communication. Several layers that read the same
 * input (Q, K, V; or W1, W3) are fused into one product by stacking their row blocks; output row r then
 * holds the parts side by side, in the order given.
 *
 * <p>Each output element is computed exactly as at TP=1, so splitting changes no bit.
 */
public final class ColumnParallelLinear {

    /** Rows {@code [rowStart, rowStart + rows)} of a full (n, inFeatures) checkpoint tensor. */
    public record RowBlock(FloatBuffer tensor, int rowStart, int rows) {}

    private final PackedMatrix weight;
    private final ComputeBackend backend;

    public ColumnParallelLinear(ComputeBackend backend, int inFeatures, int segments, RowBlock... blocks) {
        this.backend = backend;
        int totalRows = 0;
        for (RowBlock b : blocks) {
            totalRows += b.rows();
        }
        FloatBuffer source;
        if (blocks.length == 1) {
            // Pack straight from the checkpoint view: no copy of the full tensor.
            source = blocks[0].tensor().duplicate().position(blocks[0].rowStart() * inFeatures);
        } else {
            // Stacking needs one contiguous (totalRows, inFeatures) block; it only lives until packed.
            source = FloatBuffer.allocate(totalRows * inFeatures);
            for (RowBlock b : blocks) {
                FloatBuffer view = b.tensor().duplicate();
                view.position(b.rowStart() * inFeatures).limit((b.rowStart() + b.rows()) * inFeatures);
                source.put(view);
            }
            source.flip();
        }
        this.weight = backend.pack(source, totalRows, inFeatures, inFeatures, segments);
    }

    /** out (m, outFeatures) = x (m, inFeatures) · Wᵀ for this rank's rows. */
    public void forward(float[] x, int m, float[] out) {
        backend.matmul(x, m, weight, out);
    }

    public int outFeatures() {
        return weight.rows();
    }

    public long bytes() {
        return weight.bytes();
    }
}
