package io.streaminfer.engine;

/**
 * Temperature sampling over the whole vocabulary: softmax(logits / temperature), then one draw walked
 * through the cumulative mass in id order.
 */
public final class CategoricalSampler implements TokenSampler {
    private final float temperature;
    private final RandomStream random;
    private final Probabilities probabilities = new Probabilities();

    public CategoricalSampler(float temperature, RandomStream random) {
        this.temperature = Probabilities.checkTemperature(temperature);
        this.random = random;
    }

    @Override
    public int sample(float[] logits, int offset, int vocabularySize) {
        Probabilities.checkRange(logits, offset, vocabularySize);
        double total = probabilities.fill(logits, offset, vocabularySize, temperature);
        float coin = random.nextFloat(); // the one draw of this token
        return probabilities.drawInIdOrder(vocabularySize, coin * total);
    }
}
