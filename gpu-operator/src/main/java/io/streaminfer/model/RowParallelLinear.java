package io.streaminfer.model;

import io.streaminfer.comm.Communicator;
import io.streaminfer.compute.ActivationBuffer;
import io.streaminfer.compute.ComputeBackend;
import io.streaminfer.compute.PackedMatrix;
import io.streaminfer.compute.WeightSlice;

/**
 * A linear layer split along its input features (the rows of Y = X·Wᵀ summed over k): this rank holds
 * columns {@code [colStart, colStart + cols)} of W, multiplies the matching slice of X (which the
 * preceding column-parallel layer left on this rank), and the group sums the partial products with
 * {@code allReduce}.
 *
 * <p>Y = Σ_r X_r · W_rᵀ. The local product sums its k-range as the same segments TP=1 uses there, and the
 * allReduce combines ranks in {@link io.streaminfer.comm.FixedOrder}, so Y is bitwise the TP=1 result.
 */
public final class RowParallelLinear {
    private final PackedMatrix weight;
    private final ComputeBackend backend;
    private final Communicator communicator;

    /** @param localSegments segments of this rank's k-range */
    public RowParallelLinear(String what, ComputeBackend backend, Communicator communicator, WeightSlice columns,
                             int localSegments) {
        this.backend = backend;
        this.communicator = communicator;
        this.weight = backend.matrix(what, localSegments, columns);
    }

    /** out (m, outFeatures) = Σ over ranks of x (m, cols) · W_rankᵀ. */
    public void forward(ActivationBuffer x, int m, ActivationBuffer out) {
        backend.matmul(x, m, weight, out);
        backend.allReduce(communicator, out, m);
    }

    public long bytes() {
        return weight.bytes();
    }
}
