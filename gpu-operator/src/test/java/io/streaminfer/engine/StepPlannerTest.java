package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.compute.StepBatch;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The planner without a model: budgets, decode first, chunked prefill, admission order. */
class StepPlannerTest {

    /** A sequence as the planner sees it; token at position p is 1000 * slot + p; it holds blocks 10 * slot + i. */
    static final class Fake implements PlannedSequence {
        final int slot;
        final SequenceBlocks blocks = new SequenceBlocks();
        final int promptLength;
        final boolean logprobs;
        int scheduled;
        int known;

        Fake(int slot, int promptLength, boolean logprobs) {
            this.slot = slot;
            this.promptLength = promptLength;
            this.known = promptLength;
            this.logprobs = logprobs;
            for (int i = 0; i < 4; i++) {
                blocks.add(10 * slot + i);
            }
        }

        static Fake prompt(int slot, int promptLength) {
            return new Fake(slot, promptLength, false);
        }

        /** A sequence that has prefilled its prompt and generated one token: it decodes next. */
        static Fake decoding(int slot, int promptLength) {
            Fake f = prompt(slot, promptLength);
            f.scheduled = promptLength;
            f.known = promptLength + 1;
            return f;
        }

        @Override
        public SequenceBlocks blocks() {
            return blocks;
        }

        @Override
        public int nextPosition() {
            return scheduled;
        }

        @Override
        public int feedLength() {
            return known;
        }

        @Override
        public int token(int position) {
            return 1000 * slot + position;
        }

        @Override
        public boolean wantsLogits(int position) {
            return logprobs ? position >= promptLength - 1 : position == known - 1;
        }
    }

    /** Hands the plan out as the replica does, and gives every sequence whose last row ran its next token. */
    private static void runStep(StepPlan<Fake> plan) {
        StepBatch b = plan.batch();
        for (int r = 0; r < b.rows(); r++) {
            Fake f = plan.sequences().get(r);
            f.scheduled = b.positions()[r] + 1;
            if (f.scheduled == f.known) {
                f.known++; // sampled a token
            }
        }
    }

    private static int rowsOf(StepPlan<Fake> plan, Fake f) {
        return (int) plan.sequences().stream().filter(s -> s == f).count();
    }

    @Test
    void decodeRowsComeFirstInAdmissionOrderThenPrefillChunks() {
        Fake prefilling = Fake.prompt(0, 5);
        Fake a = Fake.decoding(1, 3);
        Fake b = Fake.decoding(2, 4);
        StepPlan<Fake> plan = new StepPlanner(16).plan(List.of(prefilling, a, b));
        StepBatch batch = plan.batch();
        assertArrayEquals(new int[] {0, 1, 2, 2, 2, 2, 2}, batch.sequences(), "rows of the step's block tables");
        assertArrayEquals(new int[] {10, 11, 12, 13, 20, 21, 22, 23, 0, 1, 2, 3}, batch.blockTables().blocks(),
                "each sequence's table once, in the order its rows first appear");
        assertArrayEquals(new int[] {3, 4, 0, 1, 2, 3, 4}, batch.positions());
        assertArrayEquals(new int[] {1003, 2004, 0, 1, 2, 3, 4}, batch.tokens());
        assertArrayEquals(new boolean[] {true, true, false, false, false, false, true}, batch.wantLogits());
        assertEquals(List.of(a, b, prefilling, prefilling, prefilling, prefilling, prefilling), plan.sequences());
    }

    @Test
    void aStepNeverExceedsItsBudgetAndALongPromptIsChunkedOverSteps() {
        Fake decoding = Fake.decoding(0, 2);
        Fake longPrompt = Fake.prompt(1, 20);
        StepPlanner planner = new StepPlanner(8);
        List<Integer> chunks = new ArrayList<>();
        int expectedNext = 0;
        for (int step = 0; step < 4; step++) {
            StepPlan<Fake> plan = planner.plan(List.of(decoding, longPrompt));
            assertTrue(plan.batch().rows() <= 8);
            assertEquals(1, rowsOf(plan, decoding), "the decoding sequence gets its token every step");
            int chunk = rowsOf(plan, longPrompt);
            chunks.add(chunk);
            // the chunk continues where the last one stopped, in position order
            for (int r = 0, p = expectedNext; r < plan.batch().rows(); r++) {
                if (plan.sequences().get(r) == longPrompt) {
                    assertEquals(p++, plan.batch().positions()[r]);
                }
            }
            expectedNext += chunk;
            runStep(plan);
        }
        assertEquals(List.of(7, 7, 6, 1), chunks, "7 + 7 + 6 prompt rows, then the long one decodes too");
    }

    @Test
    void prefillChunksGoOldestFirstAndShortRemaindersLetTheNextOneStart() {
        Fake first = Fake.prompt(0, 3);
        Fake second = Fake.prompt(1, 10);
        Fake third = Fake.prompt(2, 2);
        StepPlan<Fake> plan = new StepPlanner(8).plan(List.of(first, second, third));
        assertEquals(List.of(first, first, first, second, second, second, second, second), plan.sequences());
        runStep(plan);
        // next step: first decodes (its row first), second takes the rest of the budget, third waits
        StepPlan<Fake> next = new StepPlanner(8).plan(List.of(first, second, third));
        assertEquals(1, rowsOf(next, first));
        assertEquals(5, rowsOf(next, second));
        assertEquals(2, rowsOf(next, third), "second's 5 remaining rows leave room for third's prompt");
        assertEquals(first, next.sequences().get(0));
    }

    @Test
    void decodingSequencesBeyondTheBudgetWaitTheirTurnInAdmissionOrder() {
        List<Fake> running = new ArrayList<>();
        for (int slot = 0; slot < 5; slot++) {
            running.add(Fake.decoding(slot, 2));
        }
        StepPlan<Fake> plan = new StepPlanner(3).plan(running);
        assertEquals(running.subList(0, 3), plan.sequences());
    }

    @Test
    void logprobsOfARestoredPrefillAskForLogitsFromTheLastPromptPosition() {
        Fake restored = new Fake(3, 4, true);
        restored.known = 7; // prompt 4 + 3 tokens generated before the restore
        StepPlan<Fake> plan = new StepPlanner(16).plan(List.of(restored));
        assertArrayEquals(new boolean[] {false, false, false, true, true, true, true}, plan.batch().wantLogits());
        assertEquals(4, plan.batch().logitRows());
    }

    @Test
    void nothingToComputeIsAnEmptyPlan() {
        Fake inFlight = Fake.prompt(0, 4);
        inFlight.scheduled = 4; // handed to a step that has not come back yet
        StepPlan<Fake> plan = new StepPlanner(4).plan(List.of(inFlight));
        assertTrue(plan.isEmpty());
        assertTrue(new StepPlanner(4).plan(List.<Fake>of()).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> new StepPlanner(0));
    }
}
