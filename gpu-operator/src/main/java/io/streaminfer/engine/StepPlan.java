package io.streaminfer.engine;

import io.streaminfer.compute.StepBatch;
import java.util.List;

/**
 * One planned step: the {@link StepBatch} every rank computes, and the sequence each of its rows belongs
 * to (so the step's logits go back to their sequences without a slot lookup, and several planned steps
 * may be in flight at once).
 *
 * @param batch the rows, decode rows first
 * @param sequences the sequence of each row, in row order
 */
record StepPlan<S extends PlannedSequence>(StepBatch batch, List<S> sequences) {
    StepPlan {
        if (batch.rows() != sequences.size()) {
            throw new IllegalArgumentException(batch.rows() + " rows but " + sequences.size() + " row sequences");
        }
        sequences = List.copyOf(sequences);
    }

    boolean isEmpty() {
        return batch.rows() == 0;
    }
}
