package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Micro-batches: an even share of the running sequences each, only those with a position to hand out. */
class MicroBatchesTest {

    /** A sequence of {@code known} tokens, {@code handedOut} of them given to steps. */
    private record Fake(String name, int handedOut, int known) implements PlannedSequence {
        @Override public SequenceBlocks blocks() { return new SequenceBlocks(); }
        @Override public int nextPosition() { return handedOut; }
        @Override public int feedLength() { return known; }
        @Override public int token(int position) { return 1; }
        @Override public boolean wantsLogits(int position) { return true; }
    }

    private static List<String> names(List<Fake> sequences) {
        return sequences.stream().map(Fake::name).toList();
    }

    @Test
    void depthOneTakesEveryRunningSequence() {
        List<Fake> running = List.of(new Fake("a", 3, 3), new Fake("b", 2, 3));
        assertEquals(List.of("a", "b"), names(MicroBatches.eligible(running, 1)));
    }

    @Test
    void decodingSequencesSplitIntoTurnsOfAnEvenShare() {
        List<Fake> running = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            running.add(new Fake("s" + i, 10, 11));   // each has its next token, nothing in flight
        }
        assertEquals(List.of("s0", "s1", "s2"), names(MicroBatches.eligible(running, 2)));
        // s0..s2 now in flight (handed out up to their known length): the next micro-batch takes the rest
        for (int i = 0; i < 3; i++) {
            running.set(i, new Fake("s" + i, 11, 11));
        }
        assertEquals(List.of("s3", "s4"), names(MicroBatches.eligible(running, 2)));
        // everything in flight: nothing to plan until a step comes back
        running.set(3, new Fake("s3", 11, 11));
        running.set(4, new Fake("s4", 11, 11));
        assertEquals(List.of(), names(MicroBatches.eligible(running, 2)));
    }

    @Test
    void aPrefillWithChunksLeftStaysEligibleWhileAChunkIsInFlight() {
        List<Fake> running = List.of(new Fake("long", 64, 500), new Fake("waiting", 7, 7), new Fake("c", 0, 9));
        assertEquals(List.of("long"), names(MicroBatches.eligible(running, 3)));
        assertEquals(List.of("long", "c"), names(MicroBatches.eligible(running, 2)));
    }
}
