package io.streaminfer.engine;

/**
 * What the {@link StepPlanner} sees of a running sequence: where its KV lives, how far it has been handed
 * to steps, how far it can go, and its tokens. Positions {@code [nextPosition, feedLength)} are still to
 * be computed; a sequence with exactly one of them left is decoding, with more it is prefilling.
 */
interface PlannedSequence {
    /** Its block table: the KV blocks its rows address. */
    SequenceBlocks blocks();

    /** The first position not yet handed to a step. */
    int nextPosition();

    /** Positions it feeds in all, as far as its tokens are known. */
    int feedLength();

    /** The token at {@code position}. */
    int token(int position);

    /** Whether the row at {@code position} needs logits. */
    boolean wantsLogits(int position);
}
