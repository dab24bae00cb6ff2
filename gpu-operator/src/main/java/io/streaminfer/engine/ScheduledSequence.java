package io.streaminfer.engine;

/** What the {@link StepScheduler} needs of a sequence besides what the planner reads. */
interface ScheduledSequence extends PlannedSequence {
    /** Its known tokens in position order (at least {@link #feedLength()} of them). */
    int[] tokens();

    /** The first position whose logits it needs: positions before it may come from the prefix cache. */
    int cacheLimit();

    /** Positions [0, position) are in the cache already: computed, and never handed to a step again. */
    void startAt(int position);

    /** Whether a step in flight computes some of its positions (then it cannot be preempted now). */
    boolean hasRowsInFlight();

    /** Marks positions up to {@code position} (exclusive) as handed to a step. */
    void scheduledUpTo(int position);

    /**
     * It gave back its KV: it will be admitted again and recompute every position from its tokens (what it
     * generated and its random state stay), so it continues exactly as if it had never stopped.
     */
    void preempted();
}
