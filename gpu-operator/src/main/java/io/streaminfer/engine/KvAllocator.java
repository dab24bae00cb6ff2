package io.streaminfer.engine;

/**
 * Where running sequences' KV cache lives. The replica admits a sequence only when the allocator gives it a
 * place, addresses its step rows by that place, and gives it back when the sequence ends. Called by the
 * replica's driver, under its lock.
 *
 * <p>Today's implementation, {@link SlotAllocator}, hands out fixed slots of the whole context. A paged
 * block manager implements the same calls over a pool of blocks (a sequence's place is then its block
 * table), adding growth per step and preemption behind them.
 */
public interface KvAllocator {
    /** Whether a new sequence could be given a place now; admission stops (and prepares nothing) while not. */
    boolean hasRoom();

    /**
     * Reserves KV for a new sequence that will read {@code positions} positions at first (its prompt).
     *
     * @return the slot its rows address, or -1 when there is no room for it now
     */
    int allocate(int positions);

    /** Gives back the KV of a sequence that ended. */
    void release(int slot);

    /** Fraction of the KV cache in use, 0 to 1. */
    double usage();
}
