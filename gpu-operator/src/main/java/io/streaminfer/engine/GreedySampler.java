package io.streaminfer.engine;

import io.streaminfer.compute.VectorOps;

/** Temperature 0: the first maximum (ties to the lowest id), as llama2.c's {@code sample_argmax}. Draws nothing. */
public final class GreedySampler implements TokenSampler {
    public static final GreedySampler INSTANCE = new GreedySampler();

    private GreedySampler() {}

    @Override
    public int sample(float[] logits, int offset, int vocabularySize) {
        Probabilities.checkRange(logits, offset, vocabularySize);
        return argmax(logits, offset, vocabularySize);
    }

    /** The first index of the largest logit. */
    public static int argmax(float[] logits, int offset, int vocabularySize) {
        Probabilities.checkRange(logits, offset, vocabularySize);
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
}
