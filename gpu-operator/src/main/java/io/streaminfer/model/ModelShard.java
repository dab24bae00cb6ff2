package io.streaminfer.model;

import io.streaminfer.compute.StepBatch;

/**
 * One rank's share of a model (of one pipeline stage's layers), as a
 * {@link io.streaminfer.engine.TensorParallelGroup} or {@link io.streaminfer.engine.PipelineGroup} drives it:
 * the {@link TransformerShard} on any backend. Used by one rank thread.
 */
public interface ModelShard extends AutoCloseable {

    /**
     * Runs one step on this rank (meeting the other ranks in the collectives). Writes every row's K/V into
     * this rank's cache and, when {@code logits} is not null, full vocabulary rows for the rows that want
     * them, in row order: (logitRows, vocab). Ranks other than the driver (rank 0 of the last stage) pass null.
     */
    void forward(StepBatch batch, float[] logits);

    /** Bytes of weights this rank holds. */
    long weightBytes();

    /** Bytes of this rank's KV cache. */
    long kvCacheBytes();

    @Override
    void close();
}
