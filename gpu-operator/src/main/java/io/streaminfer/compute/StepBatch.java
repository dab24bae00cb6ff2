package io.streaminfer.compute;

import java.util.Arrays;

/**
 * What one forward step computes, identical on every rank: one row per token, each in its own sequence
 * slot at its own position. Rows of one sequence appear in position order (a prefill chunk); rows marked
 * {@code wantLogits} get a row of logits, in row order.
 *
 * @param slots KV-cache slot of each row
 * @param positions position of each row's token in its sequence
 * @param tokens token id of each row
 * @param wantLogits whether each row needs logits
 */
public record StepBatch(int[] slots, int[] positions, int[] tokens, boolean[] wantLogits) {

    public StepBatch {
        if (slots.length != positions.length || slots.length != tokens.length || slots.length != wantLogits.length) {
            throw new IllegalArgumentException("step batch arrays differ in length");
        }
    }

    public int rows() {
        return tokens.length;
    }

    public int logitRows() {
        int n = 0;
        for (boolean w : wantLogits) {
            if (w) {
                n++;
            }
        }
        return n;
    }

    @Override
    public String toString() {
        return "StepBatch[rows=" + rows() + ", slots=" + Arrays.toString(slots) + "]";
    }
}
