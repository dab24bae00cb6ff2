package io.streaminfer.compute;

import io.streaminfer.comm.Communicator;
import io.streaminfer.comm.StageLink;

/**
 * The tensor operations of one rank's forward pass, on that rank's device. The transformer is written once
 * against these ({@code io.streaminfer.model.TransformerShard}); the CPU (scalar reference, Vector API,
 * OpenBLAS) and CUDA backends implement them, each keeping its buffers where it computes.
 *
 * <p>Shapes: an {@link ActivationBuffer} is (rows, width) fp32 with room for the step's row budget;
 * {@code rows} arguments say how many leading rows an operation touches. A step's rows are described by a
 * {@link StepBatch} (sequence, position and token of each row, and the block tables), handed to {@link #beginStep} first.
 *
 * <p>Invariance: a backend whose {@link #batchInvariant()} is true computes every row on its own in a
 * fixed order, so a row's bits depend on neither the batch nor the row's place in it; with
 * {@link io.streaminfer.comm.FixedOrder} sums in the communicator the result is also TP-invariant.
 *
 * <p>Used by one rank thread at a time; a backend owns its threads (never the common ForkJoinPool).
 */
public interface ComputeBackend extends AutoCloseable {

    /** Short name for logs and benchmarks: {@code vector}, {@code scalar}, {@code openblas}, {@code cuda}. */
    String name();

    /** Whether rows are computed independently of the batch, bitwise. */
    boolean batchInvariant();

    // ---- memory, at load time ----

    /** A (rows, width) fp32 scratch buffer. */
    ActivationBuffer activations(String what, int rows, int width);

    /**
     * A weight matrix for {@link #matmul}: the row blocks stacked in the order given, summed over k in
     * {@code segments} fixed segments (see {@link MatmulKernel}).
     */
    PackedMatrix matrix(String what, int segments, WeightSlice... blocks);

    /** A fp32 vector (norm weights, biases). */
    WeightVector vector(String what, float[] values);

    /**
     * Rotary tables: {@code cos}/{@code sin} are (positions, pairs) row-major; see {@link RotaryTable} for
     * the pairing.
     */
    RotaryTable rotaryTable(float[] cos, float[] sin, int positions, int pairs, boolean adjacentPairs);

    /** The token embedding table, read by {@link #embed}. */
    EmbeddingTable embedding(WeightTensor table);

    /** Keys and values of {@code kvHeads} heads of {@code headDim} for every layer, in a pool of blocks. */
    KvCache kvCache(int layers, KvGeometry geometry, int kvHeads, int headDim);

    // ---- one step ----

    /** Announces the step's rows (a device backend copies them over once). */
    void beginStep(StepBatch batch);

    /** x[r] = embedding row of the step's token r. */
    void embed(ActivationBuffer x, EmbeddingTable table, StepBatch batch);

    /** out[r] = weight * in[r] / sqrt(mean(in[r]²) + eps), for rows [0, rows). */
    void rmsNorm(ActivationBuffer out, ActivationBuffer in, WeightVector weight, float eps, int rows);

    /** RMSNorm of the rows that want logits, packed to the front of out in row order. */
    void rmsNormLogitRows(ActivationBuffer out, ActivationBuffer in, WeightVector weight, float eps, StepBatch batch);

    /** out (rows, n) = x (rows, k) · Wᵀ. */
    void matmul(ActivationBuffer x, int rows, PackedMatrix w, ActivationBuffer out);

    /** x[r][i] += bias[i] for i &lt; bias length, rows [0, rows). */
    void addBias(ActivationBuffer x, int rows, WeightVector bias);

    /**
     * Per-head RMSNorm of {@code width} features at {@code offset} of each row, head by head of
     * {@code headDim}, with one weight vector of length headDim (Qwen3's q/k norm).
     */
    void headRmsNorm(ActivationBuffer x, int rows, int offset, int width, int headDim, WeightVector weight, float eps);

    /**
     * Rotary embedding of each row's query and key heads at the row's position, then the row's key and
     * value into the cache, in the block of its sequence's table that holds the position.
     */
    void ropeAndStore(ActivationBuffer qkv, StepBatch batch, RotaryTable rope, KvCache cache, int layer,
                      AttentionShape shape);

    /** Causal attention of each row over positions [0, position] of its sequence, head by head. */
    void attention(ActivationBuffer out, ActivationBuffer qkv, KvCache cache, int layer, StepBatch batch,
                   AttentionShape shape);

    /** out[r] = silu(gate[r]) * up[r], where gateUp rows hold (gate | up), each {@code width} wide. */
    void swiGlu(ActivationBuffer gateUp, ActivationBuffer out, int rows, int width);

    /** target[r] += addend[r], rows [0, rows). */
    void add(ActivationBuffer target, ActivationBuffer addend, int rows);

    /** In place, the element-wise sum over the group's ranks of rows [0, rows). */
    void allReduce(Communicator communicator, ActivationBuffer x, int rows);

    /**
     * The vocabulary-parallel classifier: this rank's slice of logits for {@code rows} normed rows, then the
     * full (rows, vocabulary) logits gathered into {@code logits} (null on ranks that do not sample).
     */
    void logits(ActivationBuffer normed, int rows, PackedMatrix classifierSlice, Communicator communicator,
                int vocabulary, float[] logits);

    /** Sends rows [0, rows) of {@code x} to the next pipeline stage (the same rank there), bitwise. */
    void sendRows(ActivationBuffer x, int rows, StageLink link);

    /** Fills rows [0, rows) of {@code x} with what the previous pipeline stage sent, bitwise. */
    void receiveRows(ActivationBuffer x, int rows, StageLink link);

    /** Ends the step: a device backend waits for its stream (through the communicator, so a dead peer times out). */
    void endStep(Communicator communicator);

    /** Releases threads and device or native memory. */
    @Override
    void close();
}
