package io.streaminfer.engine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Which running sequences the next step may take when up to {@code depth} steps are in flight: the
 * sequences that still have a position to hand out (the others wait for a step in flight to bring back
 * their next token), at most an even share of all running sequences each, oldest first. Without the cap
 * the first micro-batch would take every decoding sequence and leave the other stages idle; with it, the
 * running sequences split into {@code depth} micro-batches that take turns through the pipeline.
 * At depth 1 it is every running sequence, as before.
 */
final class MicroBatches {
    private MicroBatches() {}

    static <S extends PlannedSequence> List<S> eligible(Collection<S> running, int depth) {
        if (depth == 1) {
            return new ArrayList<>(running);
        }
        int share = (running.size() + depth - 1) / depth;
        List<S> out = new ArrayList<>(share);
        for (S s : running) {
            if (out.size() == share) {
                break;
            }
            if (s.nextPosition() < s.feedLength()) {
                out.add(s);
            }
        }
        return out;
    }
}
