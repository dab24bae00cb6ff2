package io.streaminfer.model.tokenizer;

import java.util.Arrays;

/**
 * Candidate merges of adjacent symbols for BPE, lowest key first and, on equal keys, the lowest left position
 * first (the leftmost pair). Keys compare as primitive floats, so 0.0 and -0.0 tie. Each entry carries the
 * two positions, the version each had when the entry was pushed (callers bump a version when a symbol
 * changes, and skip an entry whose versions are stale) and the merged token. A binary heap in parallel
 * arrays: no allocation per entry. Not thread-safe: one per encode call.
 */
public final class MergeQueue {
    private float[] key;
    private int[] left;
    private int[] right;
    private int[] leftVersion;
    private int[] rightVersion;
    private int[] merged;
    private int size;

    public MergeQueue(int expectedSize) {
        int capacity = Math.max(16, expectedSize);
        key = new float[capacity];
        left = new int[capacity];
        right = new int[capacity];
        leftVersion = new int[capacity];
        rightVersion = new int[capacity];
        merged = new int[capacity];
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** Left position of the first entry. */
    public int left() {
        return left[0];
    }

    /** Right position of the first entry. */
    public int right() {
        return right[0];
    }

    public int leftVersion() {
        return leftVersion[0];
    }

    public int rightVersion() {
        return rightVersion[0];
    }

    /** The token the first entry's pair merges into. */
    public int merged() {
        return merged[0];
    }

    public void push(float entryKey, int leftPosition, int rightPosition, int leftVer, int rightVer, int mergedToken) {
        if (size == key.length) {
            grow();
        }
        int i = size++;
        set(i, entryKey, leftPosition, rightPosition, leftVer, rightVer, mergedToken);
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(i, parent)) {
                break;
            }
            swap(i, parent);
            i = parent;
        }
    }

    /** Removes the first entry. */
    public void pop() {
        size--;
        if (size == 0) {
            return;
        }
        set(0, key[size], left[size], right[size], leftVersion[size], rightVersion[size], merged[size]);
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                return;
            }
            if (child + 1 < size && before(child + 1, child)) {
                child++;
            }
            if (!before(child, i)) {
                return;
            }
            swap(i, child);
            i = child;
        }
    }

    private boolean before(int a, int b) {
        return key[a] < key[b] || (key[a] == key[b] && left[a] < left[b]);
    }

    private void grow() {
        int capacity = key.length * 2;
        key = Arrays.copyOf(key, capacity);
        left = Arrays.copyOf(left, capacity);
        right = Arrays.copyOf(right, capacity);
        leftVersion = Arrays.copyOf(leftVersion, capacity);
        rightVersion = Arrays.copyOf(rightVersion, capacity);
        merged = Arrays.copyOf(merged, capacity);
    }

    private void set(int i, float k, int l, int r, int lv, int rv, int m) {
        key[i] = k;
        left[i] = l;
        right[i] = r;
        leftVersion[i] = lv;
        rightVersion[i] = rv;
        merged[i] = m;
    }

    private void swap(int a, int b) {
        float k = key[a];
        int l = left[a];
        int r = right[a];
        int lv = leftVersion[a];
        int rv = rightVersion[a];
        int m = merged[a];
        set(a, key[b], left[b], right[b], leftVersion[b], rightVersion[b], merged[b]);
        set(b, k, l, r, lv, rv, m);
    }
}
