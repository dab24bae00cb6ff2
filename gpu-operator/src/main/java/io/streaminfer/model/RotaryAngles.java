package io.streaminfer.model;

/**
 * The rotary angles of a model for positions [0, positions): cos and sin of (position, pair), pair i
 * turning at {@code theta^(-2i / head_dim)}, rescaled as the config's {@link RopeConfig.Scaling} says.
 * Computed once per shard on the host; backends copy them where they compute.
 *
 * @param cos (positions, pairs)
 * @param sin (positions, pairs)
 */
public record RotaryAngles(float[] cos, float[] sin, int positions, int pairs) {

    public static RotaryAngles of(ModelConfig config, int positions) {
        int headDim = config.headDim();
        int pairs = headDim / 2;
        RopeConfig rope = config.rope();
        float[] frequencies = new float[pairs];
        for (int i = 0; i < pairs; i++) {
            // Float arithmetic as the llama2.c reference does it, so greedy tokens match it bitwise.
            float exponent = (2 * i) / (float) headDim;
            float frequency = 1.0f / (float) Math.pow(rope.theta(), exponent);
            frequencies[i] = rope.scaling().type() == RopeConfig.Scaling.Type.NONE ? frequency
                    : (float) rope.scaling().apply(frequency);
        }
        float[] cos = new float[positions * pairs];
        float[] sin = new float[positions * pairs];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < pairs; i++) {
                float angle = p * frequencies[i];
                cos[p * pairs + i] = (float) Math.cos(angle);
                sin[p * pairs + i] = (float) Math.sin(angle);
            }
        }
        return new RotaryAngles(cos, sin, positions, pairs);
    }
}
