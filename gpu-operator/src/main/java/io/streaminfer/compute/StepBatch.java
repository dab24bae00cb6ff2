package io.streaminfer.compute;

import java.util.Arrays;

/**
 * What one forward step computes, identical on every rank: one row per token, each of one of the step's
 * sequences at its own position. Rows of one sequence appear in position order (a prefill chunk); rows
 * marked {@code wantLogits} get a row of logits, in row order. A sequence's KV lives in the pool blocks
 * its row of {@code blockTables} lists.
 *
 * @param sequences the step's sequence of each row: a row of blockTables
 * @param positions position of each row's token in its sequence
 * @param tokens token id of each row
 * @param wantLogits whether each row needs logits
 * @param blockTables the sequences' block tables; null for a batch of fixed slots ({@link KvGeometry#slots})
 */
public record StepBatch(int[] sequences, int[] positions, int[] tokens, boolean[] wantLogits,
                        BlockTables blockTables) {

    public StepBatch {
        if (sequences.length != positions.length || sequences.length != tokens.length
                || sequences.length != wantLogits.length) {
            throw new IllegalArgumentException("step batch arrays differ in length");
        }
        if (blockTables != null) {
            for (int s : sequences) {
                if (s < 0 || s >= blockTables.sequences()) {
                    throw new IllegalArgumentException("row of sequence " + s + " but the step has "
                            + blockTables.sequences() + " block tables");
                }
            }
        }
    }

    /** Rows of fixed slots: slot s owns the contiguous blocks of {@link KvGeometry#slots}. */
    public StepBatch(int[] slots, int[] positions, int[] tokens, boolean[] wantLogits) {
        this(slots, positions, tokens, wantLogits, null);
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
        return "StepBatch[rows=" + rows() + ", sequences=" + Arrays.toString(sequences) + "]";
    }
}
