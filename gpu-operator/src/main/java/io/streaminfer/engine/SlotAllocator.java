package io.streaminfer.engine;

/**
 * A fixed number of KV-cache slots, each holding one sequence's whole context: the lowest free slot goes to
 * the next admitted sequence. Not thread-safe (the replica's lock guards it).
 */
final class SlotAllocator implements KvAllocator {
    private final boolean[] used; // (slots)
    private final int positionsPerSlot;
    private int inUse;

    SlotAllocator(int slots, int positionsPerSlot) {
        if (slots < 1) {
            throw new IllegalArgumentException("slots must be >= 1, got " + slots);
        }
        this.used = new boolean[slots];
        this.positionsPerSlot = positionsPerSlot;
    }

    @Override
    public boolean hasRoom() {
        return inUse < used.length;
    }

    @Override
    public int allocate(int positions) {
        if (positions > positionsPerSlot) {
            throw new IllegalArgumentException(positions + " positions do not fit a slot of " + positionsPerSlot);
        }
        for (int slot = 0; slot < used.length; slot++) {
            if (!used[slot]) {
                used[slot] = true;
                inUse++;
                return slot;
            }
        }
        return -1;
    }

    @Override
    public void release(int slot) {
        if (slot < 0 || slot >= used.length || !used[slot]) {
            throw new IllegalStateException("slot " + slot + " is not in use");
        }
        used[slot] = false;
        inUse--;
    }

    @Override
    public double usage() {
        return inUse / (double) used.length;
    }
}
