package io.streaminfer.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * Admission, step planning and preemption over the KV blocks: a pure function of the running sequences
 * (in admission order) and the {@link KvBlockManager}, testable without a model (as vLLM's scheduler).
 *
 * <p>A waiting sequence is admitted while fewer than {@code maxRunning} run and its prompt's blocks fit
 * (after the prefix cache gave what it had) with a block to spare for each running sequence. Each step the {@link StepPlanner} spends the row budget
 * (decode rows first, then prefill chunks) over the sequences whose cached prefix has been written; every
 * planned row then needs its block, and when the pool runs short the newest running sequence is preempted:
 * it gives back its blocks and waits to be admitted again, recomputing its positions (bitwise the same,
 * so its tokens are those it would have had). Its KV often stays in the prefix cache until it returns.
 */
final class StepScheduler {
    private final StepPlanner planner;
    private final KvBlockManager kv;
    private final int maxRunning;

    /** The next step, and the sequences preempted to make room for it, in the order they were preempted. */
    record Next<S extends ScheduledSequence>(StepPlan<S> plan, List<S> preempted) {}

    StepScheduler(StepPlanner planner, KvBlockManager kv, int maxRunning) {
        if (maxRunning < 1) {
            throw new IllegalArgumentException("at least one sequence must be allowed to run, got " + maxRunning);
        }
        this.planner = planner;
        this.kv = kv;
        this.maxRunning = maxRunning;
    }

    StepPlanner planner() {
        return planner;
    }

    KvBlockManager kv() {
        return kv;
    }

    /** Gives {@code s} its blocks if it may run now beside {@code running} others; false leaves it waiting. */
    boolean admit(ScheduledSequence s, int running) {
        if (running >= maxRunning) {
            return false;
        }
        int cached = kv.admit(s.blocks(), s.tokens(), s.feedLength(), s.cacheLimit(), running);
        if (cached < 0) {
            return false;
        }
        s.startAt(cached);
        // its full prompt blocks become visible to the sequences admitted after it (filled once scheduled)
        kv.update(s.blocks(), s.tokens(), cached, s.feedLength());
        return true;
    }

    /** Plans the next step over all of {@code running} (one step in flight at a time). */
    <S extends ScheduledSequence> Next<S> next(List<S> running) {
        return next(running, new ArrayList<>(running));
    }

    /**
     * Plans the next step over {@code eligible} (the running sequences this step may take, in admission
     * order; all of them unless several steps are in flight), preempting the newest sequences of
     * {@code running} that have no rows in flight while the pool cannot hold the planned rows. Preempted
     * sequences are removed from both lists (and have released their KV); the caller puts them back in
     * front of its waiting queue. When no sequence can be preempted, rows that find no block wait.
     */
    <S extends ScheduledSequence> Next<S> next(List<S> running, List<S> eligible) {
        List<S> preempted = new ArrayList<>();
        for (S s : List.copyOf(running)) {
            if (!kv.ready(s.blocks()) && kv.waitsForNothing(s.blocks()) && !s.hasRowsInFlight()) {
                preempt(s, running, eligible, preempted); // its cached prefix will never be written: start again
            }
        }
        while (true) {
            List<S> ready = new ArrayList<>();
            for (S s : eligible) {
                if (kv.ready(s.blocks())) {
                    ready.add(s);
                }
            }
            int[] rows = planner.rows(ready);
            int shortAt = -1;
            for (int i = 0; i < ready.size() && shortAt < 0; i++) {
                if (rows[i] > 0 && !kv.cover(ready.get(i).blocks(), ready.get(i).nextPosition() + rows[i])) {
                    shortAt = i;
                }
            }
            if (shortAt < 0) {
                return new Next<>(planner.build(ready, rows), preempted);
            }
            S victim = null;
            for (int i = running.size() - 1; i >= 0 && victim == null; i--) {
                if (!running.get(i).hasRowsInFlight()) {
                    victim = running.get(i);
                }
            }
            if (victim == null) {
                // everyone has rows in flight: the rows that find no block wait for a later step
                for (int i = shortAt; i < ready.size(); i++) {
                    if (rows[i] > 0 && !kv.cover(ready.get(i).blocks(), ready.get(i).nextPosition() + rows[i])) {
                        rows[i] = 0;
                    }
                }
                return new Next<>(planner.build(ready, rows), preempted);
            }
            preempt(victim, running, eligible, preempted);
        }
    }

    private <S extends ScheduledSequence> void preempt(S s, List<S> running, List<S> eligible, List<S> preempted) {
        eligible.remove(s);
        preempt(s, running, preempted);
    }

    private <S extends ScheduledSequence> void preempt(S s, List<S> running, List<S> preempted) {
        running.remove(s);
        kv.release(s.blocks());
        s.preempted();
        preempted.add(s);
    }

    /** Hands a planned step's positions to its sequences; their full blocks are filled and cached. */
    <S extends ScheduledSequence> void handOut(StepPlan<S> plan) {
        int[] positions = plan.batch().positions();
        S last = null;
        for (int r = 0; r < positions.length; r++) {
            S s = plan.sequences().get(r);
            s.scheduledUpTo(positions[r] + 1);
            if (s != last && last != null) {
                update(last);
            }
            last = s;
        }
        if (last != null) {
            update(last);
        }
    }

    /** After new tokens are known (sampling), registers the blocks they complete. */
    void update(ScheduledSequence s) {
        kv.update(s.blocks(), s.tokens(), s.nextPosition(), s.feedLength());
    }

    /** Gives back the KV of a sequence that ended. */
    void release(ScheduledSequence s) {
        kv.release(s.blocks());
    }
}
