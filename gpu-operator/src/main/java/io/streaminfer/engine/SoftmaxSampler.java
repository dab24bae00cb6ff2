package io.streaminfer.engine;

/**
 * A sampler that makes exactly one draw per token from softmax(logits / temperature): it checks the row,
 * fills the probabilities (refusing NaN and +infinity before any draw), draws the coin, and lets the
 * subclass {@link #pick} the token that coin lands on.
 */
abstract class SoftmaxSampler implements TokenSampler {
    private final float temperature;
    private final RandomStream random;
    final Probabilities probabilities = new Probabilities();

    SoftmaxSampler(float temperature, RandomStream random) {
        this.temperature = Probabilities.checkTemperature(temperature);
        this.random = random;
    }

    @Override
    public final int sample(float[] logits, int offset, int vocabularySize) {
        Probabilities.checkRange(logits, offset, vocabularySize);
        double total = probabilities.fill(logits, offset, vocabularySize, temperature);
        float coin = random.nextFloat(); // the one draw of this token
        return pick(vocabularySize, total, coin);
    }

    /** The token the coin in [0, 1) lands on, given the filled probabilities and their total. */
    abstract int pick(int vocabularySize, double total, float coin);
}
