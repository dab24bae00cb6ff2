package io.streaminfer.engine;

/**
 * One request's random stream: xorshift64* (Vigna), one draw per sampled token. Its whole state is one
 * non-zero long, which the operator checkpoints ({@link RequestProgress#rngState()}); a stream rebuilt
 * from that state continues exactly. Not thread-safe: one per request.
 */
public final class RandomStream {
    private long state;

    /** Resumes a stream from its exported {@link #state()}. */
    public RandomStream(long state) {
        if (state == 0) {
            throw new IllegalArgumentException("rng state must be non-zero (xorshift never leaves 0)");
        }
        this.state = state;
    }

    /** A new request's stream: the state {@link #initialState(long)} derives from its seed. */
    public static RandomStream seeded(long seed) {
        return new RandomStream(initialState(seed));
    }

    /** A well-mixed non-zero stream state for a seed (SplitMix64). */
    public static long initialState(long seed) {
        long z = seed + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return z != 0 ? z : 0x9E3779B97F4A7C15L;
    }

    /** The state after the draws so far. */
    public long state() {
        return state;
    }

    /** The next draw: the upper 24 bits of xorshift64*'s output as a float in [0, 1). */
    public float nextFloat() {
        long x = state;
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        state = x;
        long output = x * 0x2545F4914F6CDD1DL;
        return (output >>> 40) * 0x1.0p-24f;
    }
}
