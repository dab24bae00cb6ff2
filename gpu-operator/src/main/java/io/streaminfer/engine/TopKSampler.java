package io.streaminfer.engine;

/**
 * Top-k sampling: softmax(logits / temperature), the {@code k} likeliest tokens (ties to the lower id),
 * optionally cut further to the nucleus of {@code topP} of their mass, and one draw among them, best first.
 * A {@code k} that is not below the vocabulary restricts nothing: the row is then sampled as by a
 * {@link TopPSampler} (or a {@link CategoricalSampler} without top-p).
 */
public final class TopKSampler implements TokenSampler {
    private final float temperature;
    private final int k;
    private final float topP;
    private final RandomStream random;
    private final TokenSampler unrestricted;
    private final Probabilities probabilities = new Probabilities();

    /**
     * @param k tokens to keep, at least 1
     * @param topP nucleus mass within the k, in (0, 1]; 1 disables it
     */
    public TopKSampler(float temperature, int k, float topP, RandomStream random) {
        this.temperature = Probabilities.checkTemperature(temperature);
        if (k < 1) {
            throw new IllegalArgumentException("top_k of a top-k sampler must be >= 1, got " + k);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be within (0, 1], got " + topP);
        }
        this.k = k;
        this.topP = topP;
        this.random = random;
        this.unrestricted = topP < 1f ? new TopPSampler(temperature, topP, random)
                : new CategoricalSampler(temperature, random);
    }

    @Override
    public int sample(float[] logits, int offset, int vocabularySize) {
        Probabilities.checkRange(logits, offset, vocabularySize);
        if (k >= vocabularySize) {
            return unrestricted.sample(logits, offset, vocabularySize);
        }
        probabilities.fill(logits, offset, vocabularySize, temperature);
        float coin = random.nextFloat(); // the one draw of this token
        int count = probabilities.selectTopK(vocabularySize, k);
        probabilities.sortBestFirst(count);
        if (topP < 1f) {
            count = probabilities.nucleusPrefix(count, topP * probabilities.candidateMass(count));
        }
        return probabilities.drawAmongCandidates(count, coin);
    }
}
