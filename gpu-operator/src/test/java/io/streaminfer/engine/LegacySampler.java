package io.streaminfer.engine;

import io.streaminfer.compute.VectorOps;

/**
 * FROZEN: the engine's sampler as it was before it was split into {@link RandomStream} and the
 * {@link TokenSampler}s, kept verbatim (but for its name) so that tests can compare the new samplers' draws
 * against it on many seeds and parameters. Do not change it.
 *
 * <p>Picks the next token of one request from its logits. Holds the request's own random stream (xorshift64*),
 * whose state can be exported with {@link #rngState()} and resumed by constructing a new sampler with it.
 *
 * <p>Greedy (temperature 0) takes the first maximum and draws nothing. Otherwise: logits / temperature,
 * softmax (VectorOps' portable float exp, sums in double), optional top-k, optional top-p (candidates
 * sorted by probability, ties to the lower id), then exactly one uniform draw per token. Not thread-safe:
 * one sampler per request.
 */
final class LegacySampler {

    private final SamplingParams params;
    private long rngState;
    // Scratch reused across tokens, grown to the vocabulary on first use.
    private float[] probabilities = new float[0];  // (vocab) unnormalised softmax
    private int[] candidates = new int[0];         // (vocab) token ids, best first after sorting

    /**
     * @param rngState state of the request's random stream; {@link #initialState(long)} for a new request
     */
    LegacySampler(SamplingParams params, long rngState) {
        if (params == null) {
            throw new IllegalArgumentException("sampling params are required");
        }
        if (rngState == 0) {
            throw new IllegalArgumentException("rng state must be non-zero (xorshift never leaves 0)");
        }
        this.params = params;
        this.rngState = rngState;
    }

    /** A well-mixed non-zero stream state for a seed (SplitMix64). */
    public static long initialState(long seed) {
        long z = seed + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return z != 0 ? z : 0x9E3779B97F4A7C15L;
    }

    /** The stream state after the tokens sampled so far. */
    public long rngState() {
        return rngState;
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * Samples a token from {@code logits[offset .. offset + vocabularySize)}.
     *
     * @throws IllegalArgumentException if the range is out of bounds or a logit is NaN or +infinity
     */
    public int sample(float[] logits, int offset, int vocabularySize) {
        checkRange(logits, offset, vocabularySize);
        if (params.isGreedy()) {
            return argmax(logits, offset, vocabularySize);
        }
        float maxLogit = maxFinite(logits, offset, vocabularySize);
        ensureScratch(vocabularySize);
        float[] probs = probabilities;
        float inverseTemperature = 1f / params.temperature();
        for (int i = 0; i < vocabularySize; i++) {
            probs[i] = (logits[offset + i] - maxLogit) * inverseTemperature;
        }
        VectorOps.expShifted(probs, 0, vocabularySize, 0f);
        double total = 0;
        for (int i = 0; i < vocabularySize; i++) {
            total += probs[i];
        }
        float coin = nextFloat(); // the one draw of this token
        boolean topK = params.topK() > 0 && params.topK() < vocabularySize;
        boolean topP = params.topP() < 1f;
        if (!topK && !topP) {
            return drawInIdOrder(probs, vocabularySize, coin * total);
        }
        int count;
        if (topK) {
            count = selectTopK(probs, vocabularySize, params.topK());
            sortBestFirst(probs, candidates, count);
            if (topP) {
                double mass = 0;
                for (int i = 0; i < count; i++) {
                    mass += probs[candidates[i]];
                }
                count = nucleusPrefix(probs, count, params.topP() * mass);
            }
        } else {
            count = popNucleus(probs, selectAboveNucleusCutoff(probs, vocabularySize, total, params.topP()),
                    params.topP() * total);
        }
        // candidates[0..count) now hold the kept tokens, best first.
        double mass = 0;
        for (int i = 0; i < count; i++) {
            mass += probs[candidates[i]];
        }
        double target = coin * mass;
        double cumulative = 0;
        for (int i = 0; i < count; i++) {
            cumulative += probs[candidates[i]];
            if (target < cumulative) {
                return candidates[i];
            }
        }
        return candidates[count - 1]; // rounding left the target at the very top
    }

    /** Length of the shortest prefix of the sorted candidates whose mass reaches the threshold. */
    private int nucleusPrefix(float[] probs, int count, double threshold) {
        double cumulative = 0;
        for (int i = 0; i < count; i++) {
            cumulative += probs[candidates[i]];
            if (cumulative >= threshold) {
                return i + 1;
            }
        }
        return count;
    }

    /**
     * Takes candidates best first until their mass reaches the threshold, without sorting them all: a heap
     * with the best at the root hands them out one by one (O(count + kept log count)). Leaves the kept ones in
     * candidates[0..kept), best first, and returns kept.
     */
    private int popNucleus(float[] probs, int count, double threshold) {
        int[] heap = candidates;
        for (int i = count / 2 - 1; i >= 0; i--) {
            siftDownBestAtRoot(probs, heap, i, count);
        }
        double cumulative = 0;
        int end = count;
        while (end > 0) {
            int best = heap[0];
            end--;
            heap[0] = heap[end];
            heap[end] = best; // popped tokens collect at the tail, best at the very end
            siftDownBestAtRoot(probs, heap, 0, end);
            cumulative += probs[best];
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

    /** The first index of the largest logit. */
    public static int argmax(float[] logits, int offset, int vocabularySize) {
        checkRange(logits, offset, vocabularySize);
        int best = VectorOps.argmax(logits, offset, vocabularySize);
        if (best < 0) {
            for (int i = 0; i < vocabularySize; i++) {
                if (Float.isNaN(logits[offset + i])) {
                    throw new IllegalArgumentException("logit of token " + i + " is NaN");
                }
            }
        }
        return best;
    }

    /** log softmax(logits)[token] at temperature 1, in double: for scoring and logprobs. */
    public static float logProbability(float[] logits, int offset, int vocabularySize, int token) {
        checkRange(logits, offset, vocabularySize);
        if (token < 0 || token >= vocabularySize) {
            throw new IllegalArgumentException("token " + token + " out of range [0, " + vocabularySize + ")");
        }
        double max = maxFinite(logits, offset, vocabularySize);
        double sum = 0;
        for (int i = 0; i < vocabularySize; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        return (float) ((logits[offset + token] - max) - Math.log(sum));
    }

    /** xorshift64* (Vigna), the upper 24 bits of the output as a float in [0, 1). */
    private float nextFloat() {
        long x = rngState;
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        rngState = x;
        long output = x * 0x2545F4914F6CDD1DL;
        return (output >>> 40) * 0x1.0p-24f;
    }

    private static int drawInIdOrder(float[] probs, int n, double target) {
        double cumulative = 0;
        int lastPositive = 0;
        for (int i = 0; i < n; i++) {
            float p = probs[i];
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

    /** Puts the k best ids into candidates[0..k) via a bounded heap whose root is the worst kept. */
    private int selectTopK(float[] probs, int n, int k) {
        int[] heap = candidates;
        for (int i = 0; i < k; i++) {
            heap[i] = i;
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(probs, heap, i, k);
        }
        for (int id = k; id < n; id++) {
            if (better(probs, id, heap[0])) {
                heap[0] = id;
                siftDown(probs, heap, 0, k);
            }
        }
        return k;
    }

    /**
     * Keeps only ids that can be in the nucleus. A token in the nucleus has more than (1 - top_p) of the
     * mass left from it onwards, shared by at most n tokens no likelier than it, so its probability exceeds
     * (1 - top_p) / n. The cutoff is halved for rounding safety; the largest token always passes.
     */
    private int selectAboveNucleusCutoff(float[] probs, int n, double total, float topP) {
        double cutoff = 0.5 * (1.0 - topP) * total / n;
        int count = 0;
        for (int id = 0; id < n; id++) {
            if (probs[id] >= cutoff) {
                candidates[count++] = id;
            }
        }
        return count;
    }

    /** Heapsort with the worst at the root: leaves ids[0..count) best first (prob desc, then id asc). */
    private static void sortBestFirst(float[] probs, int[] ids, int count) {
        for (int i = count / 2 - 1; i >= 0; i--) {
            siftDown(probs, ids, i, count);
        }
        for (int end = count - 1; end > 0; end--) {
            int worst = ids[0];
            ids[0] = ids[end];
            ids[end] = worst;
            siftDown(probs, ids, 0, end);
        }
    }

    /** Min-heap by "goodness": a parent is never better than its children. */
    private static void siftDown(float[] probs, int[] heap, int index, int size) {
        int item = heap[index];
        while (true) {
            int child = 2 * index + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && better(probs, heap[child], heap[child + 1])) {
                child++; // the worse child
            }
            if (!better(probs, item, heap[child])) {
                break;
            }
            heap[index] = heap[child];
            index = child;
        }
        heap[index] = item;
    }

    /** Max-heap by "goodness": a parent is never worse than its children. */
    private static void siftDownBestAtRoot(float[] probs, int[] heap, int index, int size) {
        int item = heap[index];
        while (true) {
            int child = 2 * index + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && better(probs, heap[child + 1], heap[child])) {
                child++; // the better child
            }
            if (!better(probs, heap[child], item)) {
                break;
            }
            heap[index] = heap[child];
            index = child;
        }
        heap[index] = item;
    }

    /** The total order of candidates: likelier first, lower id first on equal probability. */
    private static boolean better(float[] probs, int a, int b) {
        float pa = probs[a];
        float pb = probs[b];
        return pa > pb || (pa == pb && a < b);
    }

    private void ensureScratch(int vocabularySize) {
        if (probabilities.length < vocabularySize) {
            probabilities = new float[vocabularySize];
            candidates = new int[vocabularySize];
        }
    }

    private static float maxFinite(float[] logits, int offset, int n) {
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

    private static void checkRange(float[] logits, int offset, int vocabularySize) {
        if (logits == null) {
            throw new IllegalArgumentException("logits are required");
        }
        if (vocabularySize <= 0 || offset < 0 || offset > logits.length - vocabularySize) {
            throw new IllegalArgumentException("logits range [" + offset + ", " + offset + " + " + vocabularySize
                    + ") does not fit an array of " + logits.length);
        }
    }
}
