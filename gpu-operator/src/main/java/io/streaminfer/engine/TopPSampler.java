package io.streaminfer.engine;

/**
 * Nucleus sampling: softmax(logits / temperature), then the smallest set of likeliest tokens (ties to the
 * lower id) whose mass reaches {@code topP} of the total, and one draw among them, best first.
 */
public final class TopPSampler extends SoftmaxSampler {
    private final float topP;

    /** @param topP nucleus mass in (0, 1) */
    public TopPSampler(float temperature, float topP, RandomStream random) {
        super(temperature, random);
        if (!(topP > 0 && topP < 1)) {
            throw new IllegalArgumentException("top_p of a nucleus sampler must be within (0, 1), got " + topP);
        }
        this.topP = topP;
    }

    @Override
    int pick(int vocabularySize, double total, float coin) {
        int candidates = probabilities.selectAboveNucleusCutoff(vocabularySize, total, topP);
        int kept = probabilities.popNucleus(candidates, topP * total);
        return probabilities.drawAmongCandidates(kept, coin);
    }
}
