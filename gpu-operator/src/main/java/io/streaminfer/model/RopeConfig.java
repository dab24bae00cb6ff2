package io.streaminfer.model;

/**
 * Rotary position embedding of a model: which features pair up, the base of the frequencies and how they
 * are scaled for long contexts.
 *
 * @param layout which features of a head rotate together
 * @param theta base of the inverse frequencies, {@code theta^(-2i / rotary_dim)}
 * @param scaling how the inverse frequencies are rescaled; {@link Scaling#NONE} for none
 */
public record RopeConfig(Layout layout, float theta, Scaling scaling) implements java.io.Serializable {

    /** How rotary embedding pairs the features of a head. */
    public enum Layout {
        /** Adjacent pairs (2i, 2i+1), as llama2.c, Meta's original checkpoints and GGUF {@code llama} files. */
        ADJACENT_PAIRS,
        /** Pairs (i, i + head_dim/2), as Hugging Face checkpoints and GGUF {@code qwen2}/{@code qwen3} files. */
        ROTATE_HALF
    }

    /**
     * Rescaling of the inverse frequencies.
     *
     * @param type none, linear (every frequency / factor) or llama3 (Llama 3.1's banded rule)
     * @param factor the scale factor (1 for none)
     * @param lowFrequencyFactor llama3: wavelengths above original / low are divided by factor
     * @param highFrequencyFactor llama3: wavelengths below original / high are kept
     * @param originalContextLength llama3: the context the model was trained on
     */
    public record Scaling(Type type, float factor, float lowFrequencyFactor, float highFrequencyFactor,
                          int originalContextLength) implements java.io.Serializable {
        public enum Type { NONE, LINEAR, LLAMA3 }

        public static final Scaling NONE = new Scaling(Type.NONE, 1f, 0f, 0f, 0);

        public Scaling {
            if (type == null) {
                throw new IllegalArgumentException("rope scaling type is required");
            }
            if (type != Type.NONE && !(factor > 0)) {
                throw new IllegalArgumentException("rope scaling factor must be > 0, got " + factor);
            }
            if (type == Type.LLAMA3 && (!(highFrequencyFactor > lowFrequencyFactor) || lowFrequencyFactor <= 0
                    || originalContextLength <= 0)) {
                throw new IllegalArgumentException("llama3 rope scaling needs 0 < low_freq_factor < high_freq_factor"
                        + " and original_max_position_embeddings > 0, got low " + lowFrequencyFactor + ", high "
                        + highFrequencyFactor + ", original " + originalContextLength);
            }
        }

        public static Scaling linear(float factor) {
            return new Scaling(Type.LINEAR, factor, 0f, 0f, 0);
        }

        public static Scaling llama3(float factor, float low, float high, int original) {
            return new Scaling(Type.LLAMA3, factor, low, high, original);
        }

        /** The scaled inverse frequency (see DESIGN, "Hugging Face checkpoints", for the llama3 rule). */
        public double apply(double inverseFrequency) {
            switch (type) {
                case NONE:
                    return inverseFrequency;
                case LINEAR:
                    return inverseFrequency / factor;
                default:
                    double wavelength = 2 * Math.PI / inverseFrequency;
                    double lowWavelength = originalContextLength / lowFrequencyFactor;
                    double highWavelength = originalContextLength / highFrequencyFactor;
                    if (wavelength > lowWavelength) {
                        return inverseFrequency / factor;
                    }
                    if (wavelength < highWavelength) {
                        return inverseFrequency;
                    }
                    double smooth = (originalContextLength / wavelength - lowFrequencyFactor)
                            / (highFrequencyFactor - lowFrequencyFactor);
                    return (1 - smooth) * inverseFrequency / factor + smooth * inverseFrequency;
            }
        }
    }

    public RopeConfig {
        if (layout == null) {
            throw new IllegalArgumentException("rope layout is required");
        }
        if (!(theta > 0)) {
            throw new IllegalArgumentException("rope_theta must be > 0, got " + theta);
        }
        if (scaling == null) {
            throw new IllegalArgumentException("rope scaling is required (Scaling.NONE for none)");
        }
    }

    /** No scaling. */
    public static RopeConfig plain(Layout layout, float theta) {
        return new RopeConfig(layout, theta, Scaling.NONE);
    }
}
