package io.streaminfer.engine;

import java.util.Arrays;

/**
 * One sequence's block table: the pool blocks that hold its positions, in position order. The first
 * {@link #hits} came from the prefix cache (other sequences wrote them); the rest it writes itself.
 * Touched only by the replica's driver.
 */
final class SequenceBlocks {
    private int[] ids = new int[8];
    private int count;
    /** Leading blocks taken from the prefix cache. */
    int hits;
    /** Leading blocks registered in the prefix cache (hits included), and the last one's registration. */
    int registered;
    long lastRegistration;
    /** Leading blocks whose every position has been handed to a step. */
    int filled;
    /** Whether every hit block has been filled by its writer (then the sequence may be planned). */
    boolean ready = true;

    int count() {
        return count;
    }

    int get(int index) {
        return ids[index];
    }

    void add(int block) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = block;
    }

    /** Copies the table into {@code out} at {@code offset}, -1 after its last block, {@code width} entries. */
    void copyTo(int[] out, int offset, int width) {
        System.arraycopy(ids, 0, out, offset, count);
        Arrays.fill(out, offset + count, offset + width, -1);
    }

    /** Forgets every block (they have been given back). */
    void clear() {
        count = 0;
        hits = 0;
        registered = 0;
        lastRegistration = 0;
        filled = 0;
        ready = true;
    }
}
