package io.streaminfer.engine;

import io.streaminfer.compute.StepBatch;

/**
 * Runs a replica's planned steps on its ranks: one at a time ({@link TensorParallelGroup}) or, through
 * pipeline stages, up to {@link #depth()} in flight ({@link PipelineGroup}). Steps complete in the order
 * they were submitted. Used by the driver thread only.
 */
public interface StepExecutor extends AutoCloseable {

    /** Steps that may be in flight at once: 1 for a TP group, the stage count for a pipeline. */
    int depth();

    /**
     * Hands a step to the ranks. {@code logits} (logitRows, vocab) is filled for the rows that want logits
     * by the time {@link #awaitOldest()} returns for this step; the caller leaves it alone until then.
     *
     * @throws IllegalStateException if {@link #depth()} steps are in flight, or the ranks have failed
     */
    void submit(StepBatch batch, float[] logits);

    /** Waits until the oldest step in flight has completed; throws if the ranks fail first. */
    void awaitOldest();

    /** Steps submitted and not yet awaited. */
    int inFlight();

    /** The first failure of any rank, or null. */
    Throwable failure();

    /** Nanoseconds ranks have spent waiting for a neighbouring pipeline stage (0 without stages). */
    default long stageWaitNanos() {
        return 0;
    }

    /**
     * Per pipeline stage, nanoseconds its rank 0 has spent computing steps rather than waiting (empty
     * without stages; see {@link PipelineGroup#stageBusyNanos}).
     */
    default long[] stageBusyNanos() {
        return new long[0];
    }

    @Override
    void close();
}
