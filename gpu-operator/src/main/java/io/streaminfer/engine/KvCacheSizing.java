package io.streaminfer.engine;

import io.streaminfer.compute.KvGeometry;
import io.streaminfer.model.ModelConfig;

/**
 * The number of KV blocks a replica gets: its {@code --kv-cache-memory} budget (all ranks together) over
 * the bytes of one block, or by default room for {@code maxBatch} sequences of the whole context, capped
 * (on the CPU, where the cache lives on the heap) at a quarter of the heap. Either way the pool holds at
 * least one sequence of the whole context, so any admitted request can run alone.
 *
 * @param blocks blocks in the pool (every rank has as many, each with its own KV heads)
 * @param bytes the replica's KV bytes, all ranks
 * @param derived whether the budget was derived rather than given
 */
record KvCacheSizing(int blocks, long bytes, boolean derived) {
    /** Share of the heap a derived budget may take on the CPU. */
    static final int HEAP_FRACTION = 4;

    static long bytesPerPosition(ModelConfig model) {
        return KvCacheSettings.bytesPerPosition(model);
    }

    static KvCacheSizing of(KvCacheSettings settings, ModelConfig model, int context, int maxBatch, boolean onHeap,
                            long maxHeap) {
        long perBlock = bytesPerPosition(model) * settings.blockSize();
        int perSequence = KvGeometry.blocksFor(context, settings.blockSize());
        long budget = settings.memoryBytes();
        boolean derived = budget == 0;
        if (derived) {
            budget = perBlock * perSequence * maxBatch;
            if (onHeap) {
                budget = Math.min(budget, maxHeap / HEAP_FRACTION);
            }
            budget = Math.max(budget, perBlock * perSequence);
        }
        long blocks = budget / perBlock;
        if (blocks < perSequence) {
            throw new IllegalArgumentException("--kv-cache-memory " + KvCacheSettings.describeSize(budget)
                    + " holds " + blocks * settings.blockSize() + " positions but one sequence may need the whole "
                    + "context of " + context + " (" + KvCacheSettings.describeSize(perBlock * perSequence)
                    + "); raise it or lower the context");
        }
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--kv-cache-memory " + KvCacheSettings.describeSize(budget)
                    + " makes more than " + Integer.MAX_VALUE + " blocks");
        }
        return new KvCacheSizing((int) blocks, blocks * perBlock, derived);
    }

    /** Sequences of the whole context it holds at once. */
    double fullSequences(int context, int blockSize) {
        return blocks / (double) KvGeometry.blocksFor(context, blockSize);
    }
}
