package io.streaminfer.model.gguf;

import io.streaminfer.model.RopeConfig;

/**
 * Reads a {@code rope_freqs} tensor (Llama 3.1/3.2 GGUF files) into a {@link RopeConfig.Scaling}. The tensor
 * holds one divisor per rotary frequency: llama.cpp turns pair i at {@code inverse_frequency[i] / factor[i]}.
 * llama.cpp's converter computes the divisors from Llama 3's banded rule (factor, low_freq_factor,
 * high_freq_factor, original context), so this finds the llama3 scaling that reproduces every divisor:
 * first Llama 3's own parameters (low 1, high 4) with the largest divisor as the factor, then, if they do
 * not fit, low and high solved from the divisors in the transition band (the rule depends on them only
 * through original / low and original / high, so any original context gives the same frequencies). A
 * tensor no llama3 scaling reproduces is refused: it would need a scaling that carries the factors.
 */
final class RopeFrequencyFactors {
    /** Llama 3's original_max_position_embeddings, when the file does not say. */
    static final int LLAMA3_ORIGINAL_CONTEXT = 8192;
    /** Relative tolerance on a reproduced divisor (the tensor is float32, computed in float64). */
    private static final double TOLERANCE = 1e-4;

    private RopeFrequencyFactors() {}

    /**
     * The scaling whose frequencies equal {@code inverse_frequency[i] / factors[i]} for every pair.
     *
     * @throws IllegalArgumentException when no llama3 scaling reproduces the factors
     */
    static RopeConfig.Scaling toScaling(float[] factors, float theta, int headDim, int originalContext) {
        double largest = 0;
        double smallest = Double.MAX_VALUE;
        for (float f : factors) {
            largest = Math.max(largest, f);
            smallest = Math.min(smallest, f);
        }
        if (Math.abs(largest - 1) <= TOLERANCE && Math.abs(smallest - 1) <= TOLERANCE) {
            return RopeConfig.Scaling.NONE;
        }
        if (smallest < 1 - TOLERANCE) {
            throw refuse("has a divisor of " + smallest + " below 1");
        }
        RopeConfig.Scaling llama3 = RopeConfig.Scaling.llama3((float) largest, 1f, 4f, originalContext);
        if (reproduces(llama3, factors, theta, headDim)) {
            return llama3;
        }
        // In the band, 1/f = (1 - s)/factor + s with s = (original / wavelength - low) / (high - low):
        // s is linear in 1 / wavelength, s = a / wavelength - b, a = original / (high - low), b = low / (high - low).
        double n = 0;
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        for (int i = 0; i < factors.length; i++) {
            double f = factors[i];
            if (f > 1 + TOLERANCE && f < largest * (1 - TOLERANCE)) {
                double s = (1 / f - 1 / largest) / (1 - 1 / largest);
                double x = inverseFrequency(theta, headDim, i) / (2 * Math.PI);
                n++;
                sx += x;
                sy += s;
                sxx += x * x;
                sxy += x * s;
            }
        }
        double det = n * sxx - sx * sx;
        if (n >= 2 && det > 0) {
            double a = (n * sxy - sx * sy) / det;
            double b = -(sy - a * sx) / n;
            double width = originalContext / a;
            double low = b * width;
            if (a > 0 && low > 0) {
                RopeConfig.Scaling fitted = RopeConfig.Scaling.llama3((float) largest, (float) low, (float) (low + width),
                        originalContext);
                if (reproduces(fitted, factors, theta, headDim)) {
                    return fitted;
                }
            }
        }
        throw refuse("follows no llama3 rope scaling (factor " + largest + ")");
    }

    /** Inverse frequency of pair i, in float as {@code RotaryAngles} computes it. */
    private static float inverseFrequency(float theta, int headDim, int i) {
        return 1.0f / (float) Math.pow(theta, (2 * i) / (float) headDim);
    }

    private static boolean reproduces(RopeConfig.Scaling scaling, float[] factors, float theta, int headDim) {
        for (int i = 0; i < factors.length; i++) {
            float frequency = inverseFrequency(theta, headDim, i);
            double divisor = frequency / (float) scaling.apply(frequency);
            if (Math.abs(divisor - factors[i]) > TOLERANCE * factors[i]) {
                return false;
            }
        }
        return true;
    }

    private static IllegalArgumentException refuse(String why) {
        return new IllegalArgumentException("the rope_freqs tensor " + why + "; per-frequency RoPE factors other than"
                + " Llama 3's rule need a RopeConfig.Scaling that carries the factors, which this release lacks");
    }
}
