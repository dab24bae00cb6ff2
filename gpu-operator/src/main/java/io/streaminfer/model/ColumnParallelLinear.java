package io.streaminfer.model;

import io.streaminfer.compute.ActivationBuffer;
import io.streaminfer.compute.ComputeBackend;
import io.streaminfer.compute.PackedMatrix;
import io.streaminfer.compute.WeightSlice;

/**
 * A linear layer split along its output features (the columns of Y = X·Wᵀ): this rank holds a block of
 * W's rows and produces the matching slice of Y, with no communication. Several layers that read the same
 * input (Q, K, V; or W1, W3) are fused into one product by stacking their row blocks; output row r then
 * holds the parts side by side, in the order given.
 *
 * <p>Each output element is computed exactly as at TP=1, so splitting changes no bit.
 */
public final class ColumnParallelLinear {
    private final PackedMatrix weight;
    private final ComputeBackend backend;

    /** @param blocks row blocks of full checkpoint tensors, all of the layer's input width */
    public ColumnParallelLinear(String what, ComputeBackend backend, int segments, WeightSlice... blocks) {
        this.backend = backend;
        this.weight = backend.matrix(what, segments, blocks);
    }

    /** out (m, outFeatures) = x (m, inFeatures) · Wᵀ for this rank's rows. */
    public void forward(ActivationBuffer x, int m, ActivationBuffer out) {
        backend.matmul(x, m, weight, out);
    }

    public PackedMatrix weight() {
        return weight;
    }

    public long bytes() {
        return weight.bytes();
    }
}
