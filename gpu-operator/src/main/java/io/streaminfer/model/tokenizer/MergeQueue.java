package io.streaminfer.model.tokenizer;

import java.util.Arrays;

/**
 * Candidate merges of adjacent symbols for BPE: a binary min-heap of {@code long} keys, each a priority in
 * the high bits and the left symbol's position in the low 31, so that the smallest key is the best pair and,
 * on equal priorities, the leftmost one. An entry goes stale when its symbols change; callers recompute the
 * pair at the popped position and merge only when its key is still the popped one (a key that equals a
 * current pair's key is the best current pair, whichever entry carried it). Not thread-safe: one per encode.
 */
public final class MergeQueue {
    private static final long POSITION_MASK = (1L << 31) - 1;

    private long[] heap;
    private int size;

    public MergeQueue(int expectedSize) {
        heap = new long[Math.max(16, expectedSize)];
    }

    /** The key of a pair merging with {@code rank} (0 = first merge) at {@code position}: lowest rank first. */
    public static long rankKey(int rank, int position) {
        return ((long) rank << 31) | position;
    }

    /**
     * The key of a pair whose merge scores {@code score} at {@code position}: highest score first. Scores
     * compare as primitive floats (0.0 and -0.0 tie); NaN must be left out by the caller.
     */
    public static long scoreKey(float score, int position) {
        int bits = Float.floatToIntBits(score + 0.0f); // -0.0 + 0.0 is 0.0
        int ordered = bits ^ ((bits >> 31) & 0x7FFFFFFF); // ascending ints for ascending floats
        long descending = 0x7FFFFFFFL - ordered;            // 0 .. 2^32 - 1, best score lowest
        return (descending << 31) | position;
    }

    /** The position in a key. */
    public static int position(long key) {
        return (int) (key & POSITION_MASK);
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public void push(long key) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= key) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
    }

    /** Removes and returns the smallest key. */
    public long pop() {
        long top = heap[0];
        long last = heap[--size];
        int i = 0;
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < size && heap[child + 1] < heap[child]) {
                child++;
            }
            if (last <= heap[child]) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = last;
        return top;
    }
}
