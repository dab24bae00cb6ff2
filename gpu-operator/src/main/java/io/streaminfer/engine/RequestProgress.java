package io.streaminfer.engine;

/**
 * How far a request got: the tokens generated so far and the state of its random stream after them.
 * Resubmitting a request with its progress continues it exactly where it stopped (the replica
 * recomputes the KV cache of prompt + generated tokens, which is bitwise the same by batch invariance).
 *
 * @param generatedTokens tokens generated so far
 * @param rngState state of the request's random stream after sampling those tokens
 */
public record RequestProgress(int[] generatedTokens, long rngState) {
    public RequestProgress {
        generatedTokens = generatedTokens.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RequestProgress p && rngState == p.rngState
                && java.util.Arrays.equals(generatedTokens, p.generatedTokens);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Arrays.hashCode(generatedTokens) + Long.hashCode(rngState);
    }
}
