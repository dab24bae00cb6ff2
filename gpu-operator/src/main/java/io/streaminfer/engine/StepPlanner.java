package io.streaminfer.engine;

import io.streaminfer.compute.BlockTables;
import io.streaminfer.compute.StepBatch;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

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
 * <p>Planning is two halves, so that the scheduler can find KV blocks for the rows in between:
 * {@link #rows} says how many rows each sequence gets, {@link #build} lays them out with the sequences'
 * block tables. A sequence is planned from {@link PlannedSequence#nextPosition()}, the first position not
 * yet handed to a step, so a plan never repeats rows that a step still in flight computes.
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

    /** The next step for {@code running}, in admission order, with the blocks they hold now. */
    <S extends PlannedSequence> StepPlan<S> plan(List<S> running) {
        return build(running, rows(running));
    }

    /** Rows each of {@code running} (in admission order) gets in the next step: decode rows, then chunks. */
    int[] rows(List<? extends PlannedSequence> running) {
        int[] rows = new int[running.size()];
        int room = rowBudget;
        for (int i = 0; i < rows.length && room > 0; i++) {
            if (pending(running.get(i)) == 1) {
                rows[i] = 1;
                room--;
            }
        }
        for (int i = 0; i < rows.length && room > 0; i++) {
            int pending = pending(running.get(i));
            if (pending > 1) {
                rows[i] = Math.min(pending, room);
                room -= rows[i];
            }
        }
        return rows;
    }

    /**
     * The step of {@code rows[i]} rows of {@code running.get(i)}: decode rows first, in admission order,
     * then prefill chunks. Every position a row computes must lie within its sequence's blocks.
     */
    <S extends PlannedSequence> StepPlan<S> build(List<S> running, int[] rows) {
        int total = 0;
        for (int r : rows) {
            total += r;
        }
        Layout<S> layout = new Layout<>(total);
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] == 1 && pending(running.get(i)) == 1) {
                layout.add(running.get(i), 1);
            }
        }
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] > 0 && pending(running.get(i)) > 1) {
                layout.add(running.get(i), rows[i]);
            }
        }
        return layout.toPlan();
    }

    private static int pending(PlannedSequence s) {
        return s.feedLength() - s.nextPosition();
    }

    /** The step's rows as they are laid out, and the table row of each sequence. */
    private static final class Layout<S extends PlannedSequence> {
        private final int[] sequences;   // (rows) the row's sequence: its row of the block tables
        private final int[] positions;   // (rows)
        private final int[] tokens;      // (rows)
        private final boolean[] wantLogits; // (rows)
        private final List<S> rowSequences = new ArrayList<>();
        private final Map<S, Integer> tableRow = new IdentityHashMap<>();
        private final List<S> tabled = new ArrayList<>();
        private int count;

        Layout(int rows) {
            sequences = new int[rows];
            positions = new int[rows];
            tokens = new int[rows];
            wantLogits = new boolean[rows];
        }

        void add(S s, int rows) {
            if (s.blocks().count() == 0) {
                throw new IllegalStateException("a planned sequence holds no KV blocks");
            }
            Integer row = tableRow.get(s);
            if (row == null) {
                row = tabled.size();
                tableRow.put(s, row);
                tabled.add(s);
            }
            for (int i = 0; i < rows; i++) {
                int position = s.nextPosition() + i;
                sequences[count] = row;
                positions[count] = position;
                tokens[count] = s.token(position);
                wantLogits[count] = s.wantsLogits(position);
                rowSequences.add(s);
                count++;
            }
        }

        StepPlan<S> toPlan() {
            int width = 1;
            for (S s : tabled) {
                width = Math.max(width, s.blocks().count());
            }
            int[] blocks = new int[Math.max(1, tabled.size()) * width];
            java.util.Arrays.fill(blocks, -1);
            for (int i = 0; i < tabled.size(); i++) {
                tabled.get(i).blocks().copyTo(blocks, i * width, width);
            }
            return new StepPlan<>(new StepBatch(sequences, positions, tokens, wantLogits,
                    new BlockTables(width, blocks)), rowSequences);
        }
    }
}
