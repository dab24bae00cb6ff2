package io.streaminfer.model;

import io.streaminfer.compute.StepBatch;

/**
 * One rank's share of a model, as a {@link io.streaminfer.engine.TensorParallelGroup} drives it: the CPU
 * {@link TransformerShard}, or a device-resident implementation. Used by one rank thread.
 */
public interface ModelShard extends AutoCloseable {

    /**
     * Runs one step on this rank (meeting the other ranks in the collectives). Writes every row's K/V into
     * this rank's cache and, when {@code logits} is not null, full vocabulary rows for the rows that want
     * them, in row order: (logitRows, vocab). Ranks other than the driver pass null.
     */
    void forward(StepBatch batch, float[] logits);

    /** Bytes of weights this rank holds. */
    long weightBytes();

    /** Bytes of this rank's KV cache. */
    long kvCacheBytes();

    @Override
    void close();
}
