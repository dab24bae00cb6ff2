package io.streaminfer.engine;

/**
 * Nucleus sampling: softmax(logits / temperature), then the smallest set of likeliest tokens (ties to the
 * lower id) whose mass reaches {@code topP} of the total, and one draw among them, best first.
 */
public final class TopPSampler implements TokenSampler {
    private final float temperature;
    private final float topP;
    private final RandomStream random;
    private final Probabilities probabilities = new Probabilities();

    /** @param topP nucleus mass in (0, 1) */
    public TopPSampler(float temperature, float topP, RandomStream random) {
        this.temperature = Probabilities.checkTemperature(temperature);
        if (!(topP > 0 && topP < 1)) {
            throw new IllegalArgumentException("top_p of a nucleus sampler must be within (0, 1), got " + topP);
        }
        this.topP = topP;
        this.random = random;
    }

    @Override
    public int sample(float[] logits, int offset, int vocabularySize) {
        Probabilities.checkRange(logits, offset, vocabularySize);
        double total = probabilities.fill(logits, offset, vocabularySize, temperature);
        float coin = random.nextFloat(); // the one draw of this token
        int candidates = probabilities.selectAboveNucleusCutoff(vocabularySize, total, topP);
        int kept = probabilities.popNucleus(candidates, topP * total);
        return probabilities.drawAmongCandidates(kept, coin);
    }
}
