package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The split samplers draw exactly what the frozen {@link LegacySampler} drew: same token, same stream
 * state after it, and the same refusal (message and no draw) for rows it refused, on many seeds, sampler
 * shapes, vocabulary sizes and logit shapes (flat, peaked, ties, -infinity, huge ranges).
 */
class SamplerEquivalenceTest {
    private static final float[] TEMPERATURES = {0f, 0.05f, 0.5f, 0.8f, 1f, 1.3f, 2.5f};
    private static final float[] TOP_PS = {1f, 0.999f, 0.95f, 0.9f, 0.5f, 0.1f, 1e-6f};
    private static final int[] TOP_KS = {0, 1, 2, 5, 40, 511, 512, 513, 100_000};
    private static final int[] VOCABULARIES = {1, 2, 3, 17, 512, 4099};

    /** A logits row of one of several shapes. */
    private static float[] logits(SplittableRandom random, int vocab) {
        float[] row = new float[vocab];
        int shape = random.nextInt(6);
        for (int i = 0; i < vocab; i++) {
            row[i] = switch (shape) {
                case 0 -> (float) (random.nextDouble() * 8 - 4);                       // spread
                case 1 -> (float) random.nextGaussian() * 0.01f;                       // nearly flat
                case 2 -> random.nextInt(4);                                           // many exact ties
                case 3 -> i == random.nextInt(vocab) ? 30f : (float) random.nextGaussian(); // peaked
                case 4 -> random.nextInt(3) == 0 ? Float.NEGATIVE_INFINITY : (float) random.nextGaussian();
                default -> (float) (random.nextDouble() * 200 - 100);                  // huge range
            };
        }
        if (shape == 4) {
            row[random.nextInt(vocab)] = 0f; // at least one finite logit
        }
        return row;
    }

    @Test
    void sameTokensAndStreamStatesAsTheLegacySampler() {
        SplittableRandom random = new SplittableRandom(20240611);
        int compared = 0;
        for (int trial = 0; trial < 1500; trial++) {
            float temperature = TEMPERATURES[random.nextInt(TEMPERATURES.length)];
            float topP = TOP_PS[random.nextInt(TOP_PS.length)];
            int topK = TOP_KS[random.nextInt(TOP_KS.length)];
            int vocab = VOCABULARIES[random.nextInt(VOCABULARIES.length)];
            long seed = random.nextLong();
            SamplingParams params = new SamplingParams(temperature, topP, topK, 16, seed, List.of(), false);
            LegacySampler legacy = new LegacySampler(params, LegacySampler.initialState(seed));
            RandomStream stream = RandomStream.seeded(seed);
            assertEquals(legacy.rngState(), stream.state(), "initial state of seed " + seed);
            TokenSampler sampler = Sampler.forParams(params, stream);
            int offset = random.nextInt(3) * vocab;
            for (int step = 0; step < 6; step++) {
                float[] batch = new float[vocab * 3];
                System.arraycopy(logits(random, vocab), 0, batch, offset, vocab);
                String where = params + ", vocab " + vocab + ", step " + step;
                assertEquals(legacy.sample(batch, offset, vocab), sampler.sample(batch, offset, vocab), where);
                assertEquals(legacy.rngState(), stream.state(), "stream state, " + where);
                compared++;
            }
        }
        assertEquals(9000, compared);
    }

    @Test
    void sameRefusalsAndNoDrawOnThem() {
        float[][] bad = {{0f, Float.NaN, 1f}, {Float.POSITIVE_INFINITY, 0f, 0f},
            {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}};
        for (SamplingParams params : List.of(SamplingParams.greedy(1),
                new SamplingParams(1f, 1f, 0, 1, 5, List.of(), false), new SamplingParams(1f, 0.5f, 0, 1, 5, List.of(), false),
                new SamplingParams(1f, 1f, 2, 1, 5, List.of(), false), new SamplingParams(1f, 0.5f, 2, 1, 5, List.of(), false))) {
            for (float[] row : bad) {
                LegacySampler legacy = new LegacySampler(params, LegacySampler.initialState(5));
                RandomStream stream = RandomStream.seeded(5);
                TokenSampler sampler = Sampler.forParams(params, stream);
                String expected = outcome(() -> legacy.sample(row, 0, row.length));
                assertEquals(expected, outcome(() -> sampler.sample(row, 0, row.length)), params + " on "
                        + java.util.Arrays.toString(row));
                assertEquals(legacy.rngState(), stream.state(), "a refused row draws nothing");
            }
            LegacySampler legacy = new LegacySampler(params, LegacySampler.initialState(5));
            TokenSampler sampler = Sampler.forParams(params, RandomStream.seeded(5));
            assertEquals(outcome(() -> legacy.sample(new float[3], 1, 3)), outcome(() -> sampler.sample(new float[3], 1, 3)));
            assertEquals(outcome(() -> legacy.sample(null, 0, 3)), outcome(() -> sampler.sample(null, 0, 3)));
        }
    }

    @Test
    void sameLogProbabilitiesAndArgmax() {
        SplittableRandom random = new SplittableRandom(7);
        for (int trial = 0; trial < 300; trial++) {
            int vocab = VOCABULARIES[random.nextInt(VOCABULARIES.length)];
            float[] row = logits(random, vocab);
            int token = random.nextInt(vocab);
            assertEquals(Float.floatToRawIntBits(LegacySampler.logProbability(row, 0, vocab, token)),
                    Float.floatToRawIntBits(Sampler.logProbability(row, 0, vocab, token)));
            assertEquals(LegacySampler.argmax(row, 0, vocab), Sampler.argmax(row, 0, vocab));
        }
    }

    private static String outcome(java.util.function.IntSupplier sample) {
        try {
            return "token " + sample.getAsInt();
        } catch (IllegalArgumentException e) {
            return "refused: " + e.getMessage();
        }
    }
}
