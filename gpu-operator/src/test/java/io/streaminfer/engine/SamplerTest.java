package io.streaminfer.engine;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The token samplers as the replica builds them ({@link Sampler#forParams}), each with its own random stream. */
class SamplerTest {

    /** A request's sampler and the stream it draws from. */
    private record Seeded(TokenSampler sampler, RandomStream random) {
        int sample(float[] logits, int offset, int vocab) {
            return sampler.sample(logits, offset, vocab);
        }

        long rngState() {
            return random.state();
        }
    }

    private static Seeded seeded(SamplingParams params, long seed) {
        return resumed(params, RandomStream.initialState(seed));
    }

    private static Seeded resumed(SamplingParams params, long state) {
        RandomStream random = new RandomStream(state);
        return new Seeded(Sampler.forParams(params, random), random);
    }

    private static SamplingParams params(float temperature, float topP, int topK) {
        return new SamplingParams(temperature, topP, topK, 16, 0L, List.of(), false);
    }

    /** Deterministic pseudo-random logits, different per step. */
    private static float[] logits(int vocab, int step) {
        float[] logits = new float[vocab];
        long x = 0x1234_5678L + step * 0x9E37_79B9L;
        for (int i = 0; i < vocab; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            logits[i] = ((x >>> 40) / (float) (1 << 24)) * 8f - 4f;
        }
        return logits;
    }

    private static int[] sampleSequence(Seeded sampler, int tokens, int vocab) {
        int[] out = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            out[t] = sampler.sample(logits(vocab, t), 0, vocab);
        }
        return out;
    }

    @Test
    void greedyTakesTheFirstMaximumAndDrawsNothing() {
        Seeded greedy = seeded(SamplingParams.greedy(4), 5);
        long before = greedy.rngState();
        assertEquals(2, greedy.sample(new float[] {0.5f, 1f, 3f, -2f, 3f}, 0, 5));
        assertEquals(0, greedy.sample(new float[] {7f, 7f, 7f}, 0, 3));
        // offset selects a window of a larger (batch) array
        assertEquals(1, greedy.sample(new float[] {9f, 9f, 0f, 1f, 1f, 9f}, 2, 3));
        assertEquals(before, greedy.rngState(), "greedy consumes no randomness");
        assertEquals(3, Sampler.argmax(new float[] {-1f, -1f, -1f, 0f}, 0, 4));
    }

    @Test
    void sameSeedSameTokensDifferentSeedsDiffer() {
        int vocab = 300;
        SamplingParams p = params(1f, 1f, 0);
        int[] a = sampleSequence(seeded(p, 42), 40, vocab);
        int[] b = sampleSequence(seeded(p, 42), 40, vocab);
        int[] c = sampleSequence(seeded(p, 43), 40, vocab);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c), "seeds 42 and 43 gave the same 40 tokens");
        assertNotEquals(RandomStream.initialState(42), RandomStream.initialState(43));
        assertNotEquals(0L, RandomStream.initialState(0));
    }

    @Test
    void topKOneAndTinyTopPEqualGreedy() {
        int vocab = 500;
        Seeded greedy = seeded(SamplingParams.greedy(1), 1);
        Seeded topK1 = seeded(params(1.3f, 1f, 1), 1);
        Seeded tinyTopP = seeded(params(0.8f, 1e-6f, 0), 1);
        Seeded both = seeded(params(2f, 1e-6f, 50), 1);
        for (int step = 0; step < 30; step++) {
            float[] logits = logits(vocab, step);
            int expected = greedy.sample(logits, 0, vocab);
            assertEquals(expected, topK1.sample(logits, 0, vocab), "top_k=1 at step " + step);
            assertEquals(expected, tinyTopP.sample(logits, 0, vocab), "top_p=1e-6 at step " + step);
            assertEquals(expected, both.sample(logits, 0, vocab), "top_k=50, top_p=1e-6 at step " + step);
        }
        // ties: both restricted samplers pick the lower id, like greedy
        float[] tied = {1f, 5f, 2f, 5f};
        assertEquals(1, topK1.sample(tied, 0, 4));
        assertEquals(1, tinyTopP.sample(tied, 0, 4));
    }

    @Test
    void frequenciesFollowTheSoftmax() {
        float[] logits = {0f, (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)}; // p = 0.1..0.4
        int draws = 100_000;
        int[] counts = counts(seeded(params(1f, 1f, 0), 2024), logits, draws);
        for (int token = 0; token < 4; token++) {
            double expected = (token + 1) / 10.0;
            assertEquals(expected, counts[token] / (double) draws, 0.01, "frequency of token " + token);
        }
    }

    @Test
    void temperatureSharpensAndTopKTopPRestrict() {
        float[] logits = {0f, (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)};
        int draws = 50_000;
        // temperature 0.5 squares the probabilities: 1,4,9,16 / 30
        int[] counts = counts(seeded(params(0.5f, 1f, 0), 9), logits, draws);
        assertEquals(16 / 30.0, counts[3] / (double) draws, 0.015);
        assertEquals(1 / 30.0, counts[0] / (double) draws, 0.01);

        // top_k = 2 keeps tokens 3 and 2, renormalised to 4/7 and 3/7
        counts = counts(seeded(params(1f, 1f, 2), 10), logits, draws);
        assertEquals(0, counts[0] + counts[1]);
        assertEquals(4 / 7.0, counts[3] / (double) draws, 0.015);

        // top_p = 0.65: 0.4 + 0.3 = 0.7 >= 0.65, so tokens 3 and 2 only
        counts = counts(seeded(params(1f, 0.65f, 0), 11), logits, draws);
        assertEquals(0, counts[0] + counts[1]);
        assertEquals(4 / 7.0, counts[3] / (double) draws, 0.015);
    }

    /** How often each of the 4 tokens is drawn in {@code draws} samples. */
    private static int[] counts(Seeded sampler, float[] logits, int draws) {
        int[] counts = new int[4];
        for (int i = 0; i < draws; i++) {
            counts[sampler.sample(logits, 0, 4)]++;
        }
        return counts;
    }

    @Test
    void exportedStateResumesTheStream() {
        int vocab = 1000;
        SamplingParams p = params(0.9f, 0.95f, 40);
        Seeded original = seeded(p, 77);
        int[] full = sampleSequence(original, 20, vocab);

        Seeded first = seeded(p, 77);
        for (int t = 0; t < 10; t++) {
            assertEquals(full[t], first.sample(logits(vocab, t), 0, vocab));
        }
        Seeded resumed = resumed(p, first.rngState());
        for (int t = 10; t < 20; t++) {
            assertEquals(full[t], resumed.sample(logits(vocab, t), 0, vocab), "token " + t + " after resume");
        }
        assertEquals(original.rngState(), resumed.rngState());
    }

    @Test
    void exactlyOneDrawPerSampledToken() {
        SamplingParams full = params(1f, 1f, 0);
        SamplingParams restricted = params(0.7f, 0.5f, 3);
        Seeded a = seeded(full, 3);
        Seeded b = seeded(restricted, 3);
        for (int t = 0; t < 25; t++) {
            a.sample(logits(64, t), 0, 64);
            b.sample(logits(64, t), 0, 64);
            assertEquals(a.rngState(), b.rngState(), "the state depends only on the number of tokens");
        }
    }

    @Test
    void nucleusKeepsExactlyTheNeededTokensWithTiesToTheLowerId() {
        // p = 0.5 (id 500), 0.25 (id 7), 0.025 each for ids 100..109, 1e-7 for the other 990 ids.
        // top_p 0.74 needs 2 tokens; top_p 0.76 needs 3, and the third is the lowest id of the tie, 100.
        int vocab = 1002;
        float[] logits = new float[vocab];
        java.util.Arrays.fill(logits, (float) Math.log(1e-7));
        logits[500] = (float) Math.log(0.5);
        logits[7] = (float) Math.log(0.25);
        for (int i = 100; i < 110; i++) {
            logits[i] = (float) Math.log(0.025);
        }
        java.util.Set<Integer> seen = new java.util.TreeSet<>();
        Seeded two = seeded(params(1f, 0.74f, 0), 5);
        for (int i = 0; i < 2000; i++) {
            seen.add(two.sample(logits, 0, vocab));
        }
        assertEquals(java.util.Set.of(7, 500), seen);
        int[] counts = new int[vocab];
        Seeded three = seeded(params(1f, 0.76f, 0), 5);
        for (int i = 0; i < 20_000; i++) {
            counts[three.sample(logits, 0, vocab)]++;
        }
        assertEquals(20_000, counts[500] + counts[7] + counts[100], "only ids 500, 7 and 100 are drawn");
        assertEquals(0.025 / 0.775, counts[100] / 20_000.0, 0.005);
        assertEquals(0.5 / 0.775, counts[500] / 20_000.0, 0.015);
    }

    @Test
    void logProbabilityIsLogSoftmax() {
        float[] logits = {1f, 2f, 3f, 4f};
        double sum = Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4);
        for (int token = 0; token < 4; token++) {
            assertEquals(Math.log(Math.exp(token + 1) / sum), Sampler.logProbability(logits, 0, 4, token), 1e-6);
        }
        // large logits do not overflow
        float[] big = {1000f, 1000f};
        assertEquals(Math.log(0.5), Sampler.logProbability(big, 0, 2, 1), 1e-6);
        assertEquals(Math.log(0.5), Sampler.logProbability(new float[] {9f, 5f, 5f}, 1, 2, 0), 1e-6);
        assertThrows(IllegalArgumentException.class, () -> Sampler.logProbability(logits, 0, 4, 4));
    }

    @Test
    void badLogitsAndStateAreRefused() {
        Seeded sampler = seeded(params(1f, 1f, 0), 1);
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(new float[] {0f, Float.NaN}, 0, 2));
        assertTrue(nan.getMessage().contains("token 1"), nan.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(new float[3], 1, 3));
        assertThrows(IllegalArgumentException.class, () -> new RandomStream(0L));
        // a -infinity logit is just an impossible token
        assertEquals(1, sampler.sample(new float[] {Float.NEGATIVE_INFINITY, 0f}, 0, 2));
    }

    @Test
    void invalidParamsAreRejectedNamingTheParameter() {
        assertMessage(() -> params(-0.1f, 1f, 0), "temperature");
        assertMessage(() -> params(Float.NaN, 1f, 0), "temperature");
        assertMessage(() -> params(Float.POSITIVE_INFINITY, 1f, 0), "temperature");
        assertMessage(() -> params(1f, 0f, 0), "top_p");
        assertMessage(() -> params(1f, 1.5f, 0), "top_p");
        assertMessage(() -> params(1f, 1f, -1), "top_k");
        assertMessage(() -> new SamplingParams(1f, 1f, 0, 0, 0L, List.of(), false), "max_tokens");
        assertMessage(() -> new SamplingParams(1f, 1f, 0, 5, 0L, List.of(""), false), "stop");
    }

    private static void assertMessage(Runnable construct, String parameter) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct::run);
        assertTrue(e.getMessage().contains(parameter), e.getMessage());
    }
}
