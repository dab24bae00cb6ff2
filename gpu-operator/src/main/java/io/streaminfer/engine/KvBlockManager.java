package io.streaminfer.engine;

import io.streaminfer.compute.KvGeometry;
import java.util.Arrays;

/**
 * Gives sequences KV blocks from a {@link BlockPool}: a new sequence first reuses the longest cached prefix
 * of its tokens (when prefix caching is on), takes fresh blocks for the rest of its known positions, grows
 * one block at a time as it generates, registers every full block it fills, and gives everything back when
 * it ends or is preempted. Pure bookkeeping over token arrays, no model; not thread-safe (the driver's).
 */
final class KvBlockManager {
    private final BlockPool pool;
    private final boolean prefixCaching;
    /** Blocks admission always leaves free (1% of the pool), besides one per running sequence. */
    private final int reserve;
    private long promptPositions;
    private long hitPositions;

    KvBlockManager(int blocks, int blockSize, boolean prefixCaching) {
        this.pool = new BlockPool(blocks, blockSize);
        this.prefixCaching = prefixCaching;
        this.reserve = blocks / 100;
    }

    int blockSize() {
        return pool.blockSize();
    }

    /**
     * Gives a new sequence its blocks for positions [0, feedLength) if they fit, the first ones from the
     * prefix cache. Only blocks wholly before {@code cacheLimit} (the first position whose logits the
     * sequence needs) are taken from the cache: those positions are never computed again. Admission leaves
     * a block for each of the {@code running} sequences to grow into, so that a new sequence rarely forces
     * a preemption a few steps later (the pool is then thrashing rather than full).
     *
     * @param tokens the sequence's known tokens, at least feedLength of them
     * @return positions that came from the cache (0 or more), or -1 when the blocks do not fit now
     */
    int admit(SequenceBlocks table, int[] tokens, int feedLength, int cacheLimit, int running) {
        if (table.count() != 0) {
            throw new IllegalStateException("the sequence already holds blocks");
        }
        int size = pool.blockSize();
        int needed = KvGeometry.blocksFor(Math.max(1, feedLength), size);
        int[] hits = prefixCaching ? match(tokens, Math.max(0, Math.min(cacheLimit, feedLength)) / size) : new int[0];
        int taken = needed - hits.length;
        for (int block : hits) {
            if (pool.isEvictable(block)) {
                taken++; // acquiring it takes it off the evictable list
            }
        }
        if (taken + reserve + running > pool.available() && !(taken <= pool.available() && pool.inUse() == 0)) {
            return -1;
        }
        for (int block : hits) {
            pool.acquire(block);
            table.add(block);
        }
        table.hits = hits.length;
        table.registered = hits.length;
        table.filled = hits.length;
        table.lastRegistration = hits.length == 0 ? 0 : pool.registration(hits[hits.length - 1]);
        table.ready = isReady(table);
        while (table.count() < needed) {
            table.add(pool.allocate());
        }
        promptPositions += feedLength;
        hitPositions += (long) hits.length * size;
        return hits.length * size;
    }

    /** The cached blocks of the longest prefix of whole blocks of tokens, at most {@code maxBlocks}. */
    private int[] match(int[] tokens, int maxBlocks) {
        int size = pool.blockSize();
        int[] found = new int[maxBlocks];
        long parent = 0;
        int n = 0;
        while (n < maxBlocks) {
            int block = pool.lookup(new BlockPool.Key(parent, Arrays.copyOfRange(tokens, n * size,
                    (n + 1) * size)));
            if (block < 0) {
                break;
            }
            found[n++] = block;
            parent = pool.registration(block);
        }
        return Arrays.copyOf(found, n);
    }

    /** Whether the sequence's cached prefix has been written (a later step reads it), so it may be planned. */
    boolean ready(SequenceBlocks table) {
        if (!table.ready) {
            table.ready = isReady(table);
        }
        return table.ready;
    }

    private boolean isReady(SequenceBlocks table) {
        for (int i = 0; i < table.hits; i++) {
            if (!pool.isFilled(table.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** Whether a hit block's writer gave it back unfilled: the sequence must start again (preemption). */
    boolean waitsForNothing(SequenceBlocks table) {
        for (int i = 0; i < table.hits; i++) {
            if (pool.isOrphan(table.get(i))) {
                return true;
            }
        }
        return false;
    }

    /** Grows the table to hold positions [0, positions); false (and nothing taken) when the pool is short. */
    boolean cover(SequenceBlocks table, int positions) {
        int needed = KvGeometry.blocksFor(positions, pool.blockSize()) - table.count();
        if (needed <= 0) {
            return true;
        }
        if (needed > pool.available()) {
            return false;
        }
        for (int i = 0; i < needed; i++) {
            table.add(pool.allocate());
        }
        return true;
    }

    /**
     * After a step was handed out: marks the blocks whose positions are all scheduled as filled, and (with
     * prefix caching) registers every full block of known, fed tokens, in order.
     *
     * @param scheduled positions handed to steps so far
     * @param feedLength positions the sequence feeds, as far as its tokens are known
     */
    void update(SequenceBlocks table, int[] tokens, int scheduled, int feedLength) {
        int size = pool.blockSize();
        int full = Math.min(table.count(), scheduled / size);
        for (; table.filled < full; table.filled++) {
            pool.markFilled(table.get(table.filled));
        }
        if (!prefixCaching) {
            return;
        }
        int known = Math.min(table.count(), feedLength / size);
        while (table.registered < known) {
            int i = table.registered;
            BlockPool.Key key = new BlockPool.Key(table.lastRegistration,
                    Arrays.copyOfRange(tokens, i * size, (i + 1) * size));
            table.lastRegistration = pool.register(table.get(i), key);
            table.registered++;
        }
    }

    /** Gives back every block of a sequence that ended or was preempted, last first (they are evicted first). */
    void release(SequenceBlocks table) {
        for (int i = table.count() - 1; i >= 0; i--) {
            pool.release(table.get(i), i >= table.hits);
        }
        table.clear();
    }

    /** Fraction of blocks held by sequences. */
    double usage() {
        return pool.inUse() / (double) pool.blocks();
    }

    int freeBlocks() {
        return pool.available();
    }

    int cachedBlocks() {
        return pool.cachedBlocks();
    }

    /** Prompt positions found in the cache over all admitted prompt positions (0 before any). */
    double hitRate() {
        return promptPositions == 0 ? 0 : hitPositions / (double) promptPositions;
    }
}
