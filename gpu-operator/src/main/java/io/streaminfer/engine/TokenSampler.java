package io.streaminfer.engine;

/**
 * Picks one token from a row of logits. Implementations that draw take their {@link RandomStream} from
 * outside and draw exactly once per token; none draws when it refuses the row. Not thread-safe: one per
 * request (they reuse scratch buffers across tokens).
 */
@FunctionalInterface
public interface TokenSampler {
    /**
     * The next token from {@code logits[offset .. offset + vocabularySize)}.
     *
     * @throws IllegalArgumentException if the range is out of bounds or a logit is NaN or +infinity
     */
    int sample(float[] logits, int offset, int vocabularySize);
}
