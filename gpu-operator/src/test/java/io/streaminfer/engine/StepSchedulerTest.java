package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The block manager and scheduler without a model: allocation, content keys, reference counts, LRU
 * eviction, the prefix cache's readiness rule, and preemption order.
 */
class StepSchedulerTest {
    private static final int BLOCK = 8;

    /** A sequence as the scheduler sees it: known tokens, positions handed out, and what preemption resets. */
    static final class Fake implements ScheduledSequence {
        final String name;
        final SequenceBlocks blocks = new SequenceBlocks();
        int[] tokens;
        int length;
        int scheduled;
        int preemptions;

        Fake(String name, int[] prompt) {
            this.name = name;
            this.tokens = Arrays.copyOf(prompt, prompt.length + 64);
            this.length = prompt.length;
        }

        @Override public SequenceBlocks blocks() { return blocks; }
        @Override public int nextPosition() { return scheduled; }
        @Override public int feedLength() { return length; }
        @Override public int token(int position) { return tokens[position]; }
        @Override public boolean wantsLogits(int position) { return position == length - 1; }
        @Override public int[] tokens() { return tokens; }
        @Override public int cacheLimit() { return length - 1; }
        @Override public void startAt(int position) { scheduled = position; }
        @Override public void scheduledUpTo(int position) { scheduled = position; }
        @Override public void preempted() { scheduled = 0; preemptions++; }
        @Override public boolean hasRowsInFlight() { return false; } // steps here come back before the next

        /** As the replica after a step: a sequence whose last row ran samples a token. */
        void sampleIfDone(int token) {
            if (scheduled == length) {
                tokens[length++] = token;
            }
        }

        @Override public String toString() { return name; }
    }

    static int[] prompt(int length, int salt) {
        int[] p = new int[length];
        for (int i = 0; i < length; i++) {
            p[i] = i < 24 ? 100 + i : salt * 1000 + i; // the first 24 tokens are shared
        }
        return p;
    }

    /** Runs one step: plan, hand out, then every sequence whose prompt is done samples. */
    static StepScheduler.Next<Fake> step(StepScheduler scheduler, List<Fake> running) {
        StepScheduler.Next<Fake> next = scheduler.next(running);
        scheduler.handOut(next.plan());
        for (Fake f : running) {
            f.sampleIfDone(7);
        }
        return next;
    }

    @Test
    void poolHandsOutFreeBlocksThenEvictsTheLeastRecentlyReleasedCachedOne() {
        BlockPool pool = new BlockPool(3, BLOCK);
        int a = pool.allocate();
        int b = pool.allocate();
        int c = pool.allocate();
        assertEquals(-1, pool.allocate(), "three blocks, all held");
        BlockPool.Key ka = new BlockPool.Key(0, new int[] {1, 2});
        long ra = pool.register(a, ka);
        BlockPool.Key kb = new BlockPool.Key(ra, new int[] {3, 4});
        pool.register(b, kb);
        pool.markFilled(a);
        pool.markFilled(b);
        assertEquals(ra, pool.register(c, new BlockPool.Key(0, new int[] {1, 2})),
                "a twin of a cached block is not registered; its content's registration continues the chain");
        assertEquals(2, pool.cachedBlocks());
        pool.release(b, true);
        pool.release(a, true);
        pool.release(c, true);
        assertEquals(3, pool.available(), "cached blocks nobody holds can be taken");
        assertEquals(a, pool.lookup(new BlockPool.Key(0, new int[] {1, 2})), "content keys compare tokens exactly");
        assertEquals(-1, pool.lookup(new BlockPool.Key(0, new int[] {1, 3})));
        assertEquals(-1, pool.lookup(new BlockPool.Key(ra + 1, new int[] {3, 4})), "another parent, another block");
        assertEquals(c, pool.allocate(), "the unregistered twin went back to the free list first");
        assertEquals(b, pool.allocate(), "then the least recently released cached block (b before a) is evicted");
        assertEquals(-1, pool.lookup(kb), "an evicted block leaves the cache");
        pool.acquire(a);
        assertEquals(1, pool.references(a), "a hit holds it");
        assertEquals(-1, pool.allocate(), "a held cached block is not evictable");
    }

    @Test
    void aLaterPromptReusesTheLongestCachedPrefixOnceItIsWritten() {
        KvBlockManager kv = new KvBlockManager(40, BLOCK, true);
        StepScheduler scheduler = new StepScheduler(new StepPlanner(16), kv, 8);
        Fake writer = new Fake("writer", prompt(30, 1));
        Fake reader = new Fake("reader", prompt(25, 2)); // shares 24 tokens: 3 whole blocks
        List<Fake> running = new ArrayList<>();
        assertTrue(scheduler.admit(writer, 0));
        running.add(writer);
        assertTrue(scheduler.admit(reader, 1));
        running.add(reader);
        assertEquals(24, reader.scheduled, "three cached blocks: one position left to compute");
        assertEquals(3, reader.blocks.hits);
        assertFalse(kv.ready(reader.blocks), "the writer has not handed out those positions yet");

        // step 1: 16 rows of the writer (positions 0..15); the reader, one row from its prompt's end, waits
        StepScheduler.Next<Fake> first = step(scheduler, running);
        assertEquals(16, first.plan().batch().rows());
        assertTrue(first.plan().sequences().stream().allMatch(s -> s == writer));
        assertFalse(kv.ready(reader.blocks), "block 2 (16..23) is not written yet");
        // step 2: the writer's 14 remaining rows; the reader's prefix is written from this step on
        StepScheduler.Next<Fake> second = step(scheduler, running);
        assertEquals(14, second.plan().batch().rows());
        assertTrue(kv.ready(reader.blocks));
        StepScheduler.Next<Fake> third = step(scheduler, running);
        assertEquals(List.of(writer, reader), third.plan().sequences(), "both decode, the reader's last prompt row");
        assertEquals(24, third.plan().batch().positions()[1]);
        assertEquals(24 / 55.0, kv.hitRate(), 1e-9, "24 of 55 admitted prompt positions hit");
    }

    @Test
    void aBlockWhoseWriterLeftUnwrittenSendsItsReadersBackToStartAgain() {
        KvBlockManager kv = new KvBlockManager(40, BLOCK, true);
        StepScheduler scheduler = new StepScheduler(new StepPlanner(4), kv, 8);
        Fake writer = new Fake("writer", prompt(30, 1));
        Fake reader = new Fake("reader", prompt(26, 2));
        List<Fake> running = new ArrayList<>(List.of(writer, reader));
        assertTrue(scheduler.admit(writer, 0));
        assertTrue(scheduler.admit(reader, 1));
        step(scheduler, running);
        scheduler.release(writer); // e.g. failed before writing its prompt
        running.remove(writer);
        StepScheduler.Next<Fake> next = step(scheduler, running);
        assertEquals(List.of(reader), next.preempted());
        assertEquals(1, reader.preemptions);
        assertEquals(0, reader.blocks.count(), "it gave its blocks back");
        assertTrue(scheduler.admit(reader, 0), "and starts again");
        assertEquals(0, reader.scheduled, "none of the writer's blocks was filled, so none was cached: it computes "
                + "its whole prompt");
    }

    @Test
    void whenBlocksRunOutTheNewestSequenceIsPreemptedAndLaterRecomputed() {
        // 8 blocks of 8: three sequences of 15 prompt tokens take 2 blocks each, growth needs a third
        KvBlockManager kv = new KvBlockManager(8, BLOCK, false);
        StepScheduler scheduler = new StepScheduler(new StepPlanner(64), kv, 8);
        List<Fake> running = new ArrayList<>();
        Fake[] all = {new Fake("a", prompt(15, 1)), new Fake("b", prompt(15, 2)), new Fake("c", prompt(15, 3))};
        for (Fake f : all) {
            assertTrue(scheduler.admit(f, running.size()), "admitted " + f);
            running.add(f);
        }
        assertFalse(scheduler.admit(new Fake("d", prompt(9, 4)), running.size()),
                "2 blocks are free, but admission leaves one for each running sequence to grow into: d waits");
        step(scheduler, running); // prefill 15 each: 45 rows
        assertEquals(16, all[0].length);
        // every sequence now decodes position 15, still in its second block
        assertTrue(step(scheduler, running).preempted().isEmpty());
        // position 16 needs a third block each: the pool has none, so the newest go, newest first
        StepScheduler.Next<Fake> tight = step(scheduler, running);
        assertEquals(List.of(all[2]), tight.preempted(), "c, the newest, gives its blocks to a and b");
        assertEquals(List.of(all[0], all[1]), running);
        assertEquals(0, all[2].scheduled, "c recomputes from scratch when it returns");
        assertEquals(17, all[2].length, "with the tokens it had");
        assertEquals(List.of(all[0], all[1]), tight.plan().sequences(), "a and b decode on");
        assertEquals(2, kv.freeBlocks(), "c's two blocks went back; a and b took one more each");
    }
}
