package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/**
 * The split samplers draw exactly what the pre-split sampler drew: same token, same stream state after it,
 * and the same refusal (message and no draw) for rows it refused, on many seeds, sampler shapes, vocabulary
 * sizes and logit shapes (flat, peaked, ties, -infinity, huge ranges).
 *
 * <p>What the pre-split sampler drew is recorded in {@code src/test/resources/golden/sampler_equivalence.txt},
 * one line per case: {@code draw} lines (a trial's parameters, seed, offset and initial stream state, then
 * each step's token and the stream state after it), {@code refuse} lines (outcome and stream state of a bad
 * row, or the outcome of a range that does not fit) and {@code score} lines (log-probability bits and
 * argmax). The cases themselves are not stored: each test rebuilds them from its fixed
 * {@link SplittableRandom} seed and {@link #logits} recipe, and the lines its samplers give must equal the
 * recorded ones.
 *
 * <p>The file was recorded at commit 0d2843a ("SamplerEquivalenceTest compares against a golden recorded
 * from LegacySampler"), which still holds the frozen copy of the old sampler ({@code LegacySampler}) and a
 * {@code recordGolden} test that writes these same lines from it. To record again (only on purpose: the
 * file is the proof that the split changed no draw), check that commit out and run
 * {@code mvn -B -o -q test -pl comm,gpu-operator -Dtest=SamplerEquivalenceTest#recordGolden
 * -Dsurefire.failIfNoSpecifiedTests=false -Dstreaminfer.sampler.golden.write=true}.
 */
class SamplerEquivalenceTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden/sampler_equivalence.txt");
    private static final float[] TEMPERATURES = {0f, 0.05f, 0.5f, 0.8f, 1f, 1.3f, 2.5f};
    private static final float[] TOP_PS = {1f, 0.999f, 0.95f, 0.9f, 0.5f, 0.1f, 1e-6f};
    private static final int[] TOP_KS = {0, 1, 2, 5, 40, 511, 512, 513, 100_000};
    private static final int[] VOCABULARIES = {1, 2, 3, 17, 512, 4099};
    private static final int TRIALS = 1500;
    private static final int STEPS = 6;
    private static final float[][] BAD_ROWS = {{0f, Float.NaN, 1f}, {Float.POSITIVE_INFINITY, 0f, 0f},
        {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}};
    private static final List<SamplingParams> REFUSING = List.of(SamplingParams.greedy(1),
            new SamplingParams(1f, 1f, 0, 1, 5, List.of(), false), new SamplingParams(1f, 0.5f, 0, 1, 5, List.of(), false),
            new SamplingParams(1f, 1f, 2, 1, 5, List.of(), false), new SamplingParams(1f, 0.5f, 2, 1, 5, List.of(), false));

    /** One request's sampler and the stream it draws from. */
    private record Draws(TokenSampler sampler, RandomStream stream) {
        static Draws open(SamplingParams params, long seed) {
            RandomStream stream = RandomStream.seeded(seed);
            return new Draws(Sampler.forParams(params, stream), stream);
        }

        int sample(float[] logits, int offset, int vocabularySize) {
            return sampler.sample(logits, offset, vocabularySize);
        }

        long state() {
            return stream.state();
        }
    }

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

    /**
     * One line a trial: {@code draw T p k V seed offset initialState: token@state ...}, six steps drawn from
     * logits placed at the offset of a three-row batch.
     */
    private static List<String> draws() {
        SplittableRandom random = new SplittableRandom(20240611);
        List<String> lines = new ArrayList<>();
        for (int trial = 0; trial < TRIALS; trial++) {
            float temperature = TEMPERATURES[random.nextInt(TEMPERATURES.length)];
            float topP = TOP_PS[random.nextInt(TOP_PS.length)];
            int topK = TOP_KS[random.nextInt(TOP_KS.length)];
            int vocab = VOCABULARIES[random.nextInt(VOCABULARIES.length)];
            long seed = random.nextLong();
            SamplingParams params = new SamplingParams(temperature, topP, topK, 16, seed, List.of(), false);
            Draws draws = Draws.open(params, seed);
            int offset = random.nextInt(3) * vocab;
            StringBuilder line = new StringBuilder("draw " + temperature + " " + topP + " " + topK + " " + vocab
                    + " " + seed + " " + offset + " " + Long.toHexString(draws.state()) + ":");
            for (int step = 0; step < STEPS; step++) {
                float[] batch = new float[vocab * 3];
                System.arraycopy(logits(random, vocab), 0, batch, offset, vocab);
                line.append(' ').append(draws.sample(batch, offset, vocab))
                        .append('@').append(Long.toHexString(draws.state()));
            }
            lines.add(line.toString());
        }
        return lines;
    }

    /**
     * One line a refused row ({@code refuse T p k row: outcome, state}), then two for ranges that do not fit
     * and for no logits at all ({@code refuse T p k range|null: outcome}).
     */
    private static List<String> refusals() {
        List<String> lines = new ArrayList<>();
        for (SamplingParams params : REFUSING) {
            String shape = "refuse " + params.temperature() + " " + params.topP() + " " + params.topK() + " ";
            for (float[] row : BAD_ROWS) {
                Draws draws = Draws.open(params, 5);
                String outcome = outcome(() -> draws.sample(row, 0, row.length));
                lines.add(shape + Arrays.toString(row) + ": " + outcome + ", " + Long.toHexString(draws.state()));
            }
            Draws draws = Draws.open(params, 5);
            lines.add(shape + "range: " + outcome(() -> draws.sample(new float[3], 1, 3)));
            lines.add(shape + "null: " + outcome(() -> draws.sample(null, 0, 3)));
        }
        return lines;
    }

    /** One line a row: {@code score V token: logProbabilityBits argmax}. */
    private static List<String> scores() {
        SplittableRandom random = new SplittableRandom(7);
        List<String> lines = new ArrayList<>();
        for (int trial = 0; trial < 300; trial++) {
            int vocab = VOCABULARIES[random.nextInt(VOCABULARIES.length)];
            float[] row = logits(random, vocab);
            int token = random.nextInt(vocab);
            lines.add("score " + vocab + " " + token + ": "
                    + Integer.toHexString(Float.floatToRawIntBits(Sampler.logProbability(row, 0, vocab, token)))
                    + " " + Sampler.argmax(row, 0, vocab));
        }
        return lines;
    }

    @Test
    void sameTokensAndStreamStatesAsThePreSplitSampler() throws IOException {
        assertGolden("draw", draws(), TRIALS);
    }

    @Test
    void sameRefusalsAndNoDrawOnThem() throws IOException {
        assertGolden("refuse", refusals(), REFUSING.size() * (BAD_ROWS.length + 2));
    }

    @Test
    void sameLogProbabilitiesAndArgmax() throws IOException {
        assertGolden("score", scores(), 300);
    }

    /** The recorded lines of a section equal {@code actual}, case by case, and there are {@code cases} of them. */
    private static void assertGolden(String section, List<String> actual, int cases) throws IOException {
        List<String> expected = Files.readAllLines(GOLDEN, StandardCharsets.UTF_8).stream()
                .filter(line -> line.startsWith(section + " ")).toList();
        assertEquals(cases, expected.size(), "recorded " + section + " cases");
        assertEquals(cases, actual.size(), section + " cases");
        for (int i = 0; i < cases; i++) {
            assertEquals(expected.get(i), actual.get(i), section + " case " + i);
        }
    }

    private static String outcome(IntSupplier sample) {
        try {
            return "token " + sample.getAsInt();
        } catch (IllegalArgumentException e) {
            return "refused: " + e.getMessage();
        }
    }
}
