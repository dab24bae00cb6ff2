package io.streaminfer.engine;

import io.streaminfer.compute.StepBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decides what the next step computes: a pure function of the running sequences (in admission order) and
 * the step's row budget, with no model, no locks and no clock.
 *
 * <p>Every decoding sequence gets its one row first, in admission order, so decoding never waits behind a
 * prefill: a long prompt never holds back the sequences already generating beside it. What is left of the
 * budget goes to prefill chunks, oldest first; a prompt longer than what is left takes what is left and
 * continues in the next step (chunked prefill), so no prompt takes more than the budget, and one admitted
 * after a shorter remainder still starts in the same step.
 *
 * <p>A sequence is planned from {@link PlannedSequence#nextPosition()}, the first position not yet handed
 * to a step, so a plan never repeats rows that a step still in flight computes.
 */
final class StepPlanner {
    private final int rowBudget;

    /** @param rowBudget most token rows one step computes */
    StepPlanner(int rowBudget) {
        if (rowBudget < 1) {
            throw new IllegalArgumentException("the row budget must be >= 1, got " + rowBudget);
        }
        this.rowBudget = rowBudget;
    }

    int rowBudget() {
        return rowBudget;
    }

    /** The next step for {@code running}, in admission order; an empty plan when nothing is left to compute. */
    <S extends PlannedSequence> StepPlan<S> plan(List<S> running) {
        Rows<S> rows = new Rows<>(rowBudget);
        for (S s : running) {
            if (pending(s) == 1 && rows.room() > 0) {
                rows.add(s, 1);
            }
        }
        for (S s : running) {
            if (rows.room() == 0) {
                break;
            }
            if (pending(s) > 1) {
                rows.add(s, Math.min(pending(s), rows.room()));
            }
        }
        return rows.toPlan();
    }

    private static int pending(PlannedSequence s) {
        return s.feedLength() - s.nextPosition();
    }

    /** The step's rows as they are filled. */
    private static final class Rows<S extends PlannedSequence> {
        private final int[] slots;       // (rows)
        private final int[] positions;   // (rows)
        private final int[] tokens;      // (rows)
        private final boolean[] wantLogits; // (rows)
        private final List<S> sequences = new ArrayList<>();
        private int count;

        Rows(int budget) {
            slots = new int[budget];
            positions = new int[budget];
            tokens = new int[budget];
            wantLogits = new boolean[budget];
        }

        int room() {
            return slots.length - count;
        }

        void add(S s, int rows) {
            for (int i = 0; i < rows; i++) {
                int position = s.nextPosition() + i;
                slots[count] = s.slot();
                positions[count] = position;
                tokens[count] = s.token(position);
                wantLogits[count] = s.wantsLogits(position);
                sequences.add(s);
                count++;
            }
        }

        StepPlan<S> toPlan() {
            return new StepPlan<>(new StepBatch(Arrays.copyOf(slots, count), Arrays.copyOf(positions, count),
                    Arrays.copyOf(tokens, count), Arrays.copyOf(wantLogits, count)), sequences);
        }
    }
}
