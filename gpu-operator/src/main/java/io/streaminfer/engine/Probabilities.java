package io.streaminfer.engine;

import io.streaminfer.compute.VectorOps;

/**
 * The drawing samplers' shared arithmetic and scratch: a logits row as unnormalised probabilities
 * exp((logit - max) / temperature) (VectorOps' portable float exp, sums in double), and the candidate ids
 * that top-k and top-p order with heaps under one total order (likelier first, lower id first on equal
 * probability). Scratch is reused across tokens, grown to the vocabulary on first use. Not thread-safe.
 */
final class Probabilities {
    private float[] values = new float[0]; // (vocab) unnormalised softmax of the current row
    private int[] candidates = new int[0]; // (vocab) token ids; the kept ones best first after selection

    /** Fills the probabilities of a row; returns their total. Throws, before any draw, on NaN or +infinity. */
    double fill(float[] logits, int offset, int n, float temperature) {
        float maxLogit = maxFinite(logits, offset, n);
        if (values.length < n) {
            values = new float[n];
            candidates = new int[n];
        }
        float inverseTemperature = 1f / temperature;
        for (int i = 0; i < n; i++) {
            values[i] = (logits[offset + i] - maxLogit) * inverseTemperature;
        }
        VectorOps.expShifted(values, 0, n, 0f);
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += values[i];
        }
        return total;
    }

    /** The token where the cumulative mass in id order passes {@code target}; the last positive one if none. */
    int drawInIdOrder(int n, double target) {
        double cumulative = 0;
        int lastPositive = 0;
        for (int i = 0; i < n; i++) {
            float p = values[i];
            cumulative += p;
            if (target < cumulative) {
                return i;
            }
            if (p > 0) {
                lastPositive = i;
            }
        }
        return lastPositive;
    }

    /** Mass of candidates[0..count). */
    double candidateMass(int count) {
        double mass = 0;
        for (int i = 0; i < count; i++) {
            mass += values[candidates[i]];
        }
        return mass;
    }

    /** One draw among candidates[0..count), best first, in proportion to their mass. */
    int drawAmongCandidates(int count, float coin) {
        double target = coin * candidateMass(count);
        double cumulative = 0;
        for (int i = 0; i < count; i++) {
            cumulative += values[candidates[i]];
            if (target < cumulative) {
                return candidates[i];
            }
        }
        return candidates[count - 1]; // rounding left the target at the very top
    }

    /** Puts the k best ids into candidates[0..k) via a bounded heap whose root is the worst kept. */
    int selectTopK(int n, int k) {
        int[] heap = candidates;
        for (int i = 0; i < k; i++) {
            heap[i] = i;
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDownWorstAtRoot(heap, i, k);
        }
        for (int id = k; id < n; id++) {
            if (better(id, heap[0])) {
                heap[0] = id;
                siftDownWorstAtRoot(heap, 0, k);
            }
        }
        return k;
    }

    /** Heapsort with the worst at the root: leaves candidates[0..count) best first. */
    void sortBestFirst(int count) {
        int[] ids = candidates;
        for (int i = count / 2 - 1; i >= 0; i--) {
            siftDownWorstAtRoot(ids, i, count);
        }
        for (int end = count - 1; end > 0; end--) {
            int worst = ids[0];
            ids[0] = ids[end];
            ids[end] = worst;
            siftDownWorstAtRoot(ids, 0, end);
        }
    }

    /** Length of the shortest prefix of the sorted candidates whose mass reaches the threshold. */
    int nucleusPrefix(int count, double threshold) {
        double cumulative = 0;
        for (int i = 0; i < count; i++) {
            cumulative += values[candidates[i]];
            if (cumulative >= threshold) {
                return i + 1;
            }
        }
        return count;
    }

    /**
     * Keeps only ids that can be in the nucleus. A token in the nucleus has more than (1 - top_p) of the
     * mass left from it onwards, shared by at most n tokens no likelier than it, so its probability exceeds
     * (1 - top_p) / n. The cutoff is halved for rounding safety; the largest token always passes.
     */
    int selectAboveNucleusCutoff(int n, double total, float topP) {
        double cutoff = 0.5 * (1.0 - topP) * total / n;
        int count = 0;
        for (int id = 0; id < n; id++) {
            if (values[id] >= cutoff) {
                candidates[count++] = id;
            }
        }
        return count;
    }

    /**
     * Takes candidates best first until their mass reaches the threshold, without sorting them all: a heap
     * with the best at the root hands them out one by one (O(count + kept log count)). Leaves the kept ones in
     * candidates[0..kept), best first, and returns kept.
     */
    int popNucleus(int count, double threshold) {
        int[] heap = candidates;
        for (int i = count / 2 - 1; i >= 0; i--) {
            siftDownBestAtRoot(heap, i, count);
        }
        double cumulative = 0;
        int end = count;
        while (end > 0) {
            int best = heap[0];
            end--;
            heap[0] = heap[end];
            heap[end] = best; // popped tokens collect at the tail, best at the very end
            siftDownBestAtRoot(heap, 0, end);
            cumulative += values[best];
            if (cumulative >= threshold) {
                break;
            }
        }
        int kept = count - end;
        for (int i = 0; i < kept; i++) {
            heap[i] = heap[count - 1 - i];
        }
        return kept;
    }

    /** Min-heap by "goodness": a parent is never better than its children. */
    private void siftDownWorstAtRoot(int[] heap, int index, int size) {
        siftDown(heap, index, size, false);
    }

    /** Max-heap by "goodness": a parent is never worse than its children. */
    private void siftDownBestAtRoot(int[] heap, int index, int size) {
        siftDown(heap, index, size, true);
    }

    /** Sifts {@code heap[index]} down a heap whose root is its best or its worst candidate. */
    private void siftDown(int[] heap, int index, int size, boolean bestAtRoot) {
        int item = heap[index];
        while (true) {
            int child = 2 * index + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && above(heap[child + 1], heap[child], bestAtRoot)) {
                child++; // the child that belongs above the other
            }
            if (!above(heap[child], item, bestAtRoot)) {
                break;
            }
            heap[index] = heap[child];
            index = child;
        }
        heap[index] = item;
    }

    /** Whether candidate {@code a} belongs above {@code b}: better in a best-at-root heap, worse otherwise. */
    private boolean above(int a, int b, boolean bestAtRoot) {
        return bestAtRoot ? better(a, b) : better(b, a);
    }

    /** The total order of candidates: likelier first, lower id first on equal probability. */
    private boolean better(int a, int b) {
        float pa = values[a];
        float pb = values[b];
        return pa > pb || (pa == pb && a < b);
    }

    static float checkTemperature(float temperature) {
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("a drawing sampler needs a finite temperature > 0, got " + temperature
                    + " (temperature 0 is greedy)");
        }
        return temperature;
    }

    static float maxFinite(float[] logits, int offset, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = logits[offset + i];
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("logit of token " + i + " is " + v);
            }
            max = Math.max(max, v);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("every logit is -infinity: no token can be sampled");
        }
        return max;
    }

    static void checkRange(float[] logits, int offset, int vocabularySize) {
        if (logits == null) {
            throw new IllegalArgumentException("logits are required");
        }
        if (vocabularySize <= 0 || offset < 0 || offset > logits.length - vocabularySize) {
            throw new IllegalArgumentException("logits range [" + offset + ", " + offset + " + " + vocabularySize
                    + ") does not fit an array of " + logits.length);
        }
    }
}
