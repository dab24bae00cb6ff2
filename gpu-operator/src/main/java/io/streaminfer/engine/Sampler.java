package io.streaminfer.engine;

/**
 * The engine's sampling entry points: the {@link TokenSampler} a request's parameters call for, and the two
 * pure functions of a logits row that scoring, logprobs and benchmarks use.
 */
public final class Sampler {
    private Sampler() {}

    /**
     * The sampler for {@code params}, drawing from {@code random}: greedy at temperature 0 (draws nothing),
     * else top-k when {@code top_k > 0} (with top-p inside the k), else top-p when {@code top_p < 1}, else
     * categorical over the whole vocabulary.
     */
    public static TokenSampler forParams(SamplingParams params, RandomStream random) {
        if (params == null) {
            throw new IllegalArgumentException("sampling params are required");
        }
        if (params.isGreedy()) {
            return GreedySampler.INSTANCE;
        }
        if (random == null) {
            throw new IllegalArgumentException("a random stream is required at temperature " + params.temperature());
        }
        if (params.topK() > 0) {
            return new TopKSampler(params.temperature(), params.topK(), params.topP(), random);
        }
        if (params.topP() < 1f) {
            return new TopPSampler(params.temperature(), params.topP(), random);
        }
        return new CategoricalSampler(params.temperature(), random);
    }

    /** The first index of the largest logit. */
    public static int argmax(float[] logits, int offset, int vocabularySize) {
        return GreedySampler.argmax(logits, offset, vocabularySize);
    }

    /** log softmax(logits)[token] at temperature 1, in double: for scoring and logprobs. */
    public static float logProbability(float[] logits, int offset, int vocabularySize, int token) {
        Probabilities.checkRange(logits, offset, vocabularySize);
        if (token < 0 || token >= vocabularySize) {
            throw new IllegalArgumentException("token " + token + " out of range [0, " + vocabularySize + ")");
        }
        double max = Probabilities.maxFinite(logits, offset, vocabularySize);
        double sum = 0;
        for (int i = 0; i < vocabularySize; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        return (float) ((logits[offset + token] - max) - Math.log(sum));
    }
}
