package io.streaminfer.engine;

/**
 * One data-parallel replica: a scheduler and its tensor-parallel worker group. Thread-safe; the
 * replica works on its own threads and reports through its {@link Listener}, from those threads.
 */
public interface InferenceReplica extends AutoCloseable {

    /** Receives results and failures, on the replica's own threads. */
    interface Listener {
        void onResult(GenerationResult result);

        /** The replica broke (a rank failed); it accepts nothing more. */
        void onFailure(Throwable cause);
    }

    /**
     * Admits a request unless the admission queue or the KV budget is full (then returns false and keeps
     * nothing). {@code resumeFrom} continues a request restored from a checkpoint, or is null.
     * A request that cannot run (prompt too long, unknown token ids) is admitted and completes with an
     * error result.
     */
    boolean trySubmit(GenerationRequest request, RequestProgress resumeFrom);

    /**
     * The latest consistent progress of an admitted request that has not completed, else null. A request's
     * result reaches the listener no later than this starts returning null for it, so a checkpoint always
     * finds every request either here or in the results it has received.
     */
    RequestProgress progress(String id);

    /** Requests in the running batch. */
    int running();

    /** Requests admitted but not yet running. */
    int waiting();

    /** Fraction of the KV cache in use, 0 to 1. */
    double kvCacheUsage();

    /** Prompt positions found in the prefix cache over all prompt positions admitted, 0 to 1. */
    default double prefixCacheHitRate() {
        return 0;
    }

    /** KV blocks holding a cached prefix (in use or not). */
    default int cachedKvBlocks() {
        return 0;
    }

    /** KV blocks a new sequence may take: free ones and cached ones nobody holds. */
    default int freeKvBlocks() {
        return 0;
    }

    /** How full the last step ran: its token rows over the step's row budget, 0 to 1. */
    double batchOccupancy();

    /**
     * Milliseconds the replica's ranks have spent, summed, waiting for a neighbouring pipeline stage to send
     * or take a micro-batch's rows (0 without pipeline stages): pipeline bubbles and transfer time.
     */
    default long stageWaitMillis() {
        return 0;
    }

    /**
     * Per pipeline stage, first to last, milliseconds its rank 0 has spent computing steps rather than
     * waiting for work or a link (empty without stages). Over a window, the busiest stage bounds the
     * pipeline; the others idle by the difference.
     */
    default long[] stageBusyMillis() {
        return new long[0];
    }

    /** Name of the model, as records carry it. */
    String modelName();

    /** TP degree of the worker group. */
    int tensorParallelSize();

    /** Stops the worker group and releases its memory and threads. Pending requests are dropped. */
    @Override
    void close();
}
