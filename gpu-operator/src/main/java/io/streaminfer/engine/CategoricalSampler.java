package io.streaminfer.engine;

/**
 * Temperature sampling over the whole vocabulary: softmax(logits / temperature), then one draw walked
 * through the cumulative mass in id order.
 */
public final class CategoricalSampler extends SoftmaxSampler {

    public CategoricalSampler(float temperature, RandomStream random) {
        super(temperature, random);
    }

    @Override
    int pick(int vocabularySize, double total, float coin) {
        return probabilities.drawInIdOrder(vocabularySize, coin * total);
    }
}
