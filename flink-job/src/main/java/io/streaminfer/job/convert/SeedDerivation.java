package io.streaminfer.job.convert;

import java.nio.charset.StandardCharsets;

/**
 * The seed of a request that brings none: 64-bit FNV-1a over the UTF-8 bytes of its id (offset basis
 * 0xcbf29ce484222325, prime 0x100000001b3). Stable across JVMs, platforms and releases, so a replayed
 * or re-sent request samples the same tokens. Changing this function changes every unseeded output.
 *
 * <p>A prompt asking for {@code n} samples runs sample 0 with the request's own seed (so n = 1 is unchanged)
 * and sample {@code k > 0} with {@link #sampleSeed}: the SplitMix64 finaliser of
 * {@code seed + k * 0x9e3779b97f4a7c15} (shifts 30, 27, 31; multipliers 0xbf58476d1ce4e5b9 and
 * 0x94d049bb133111eb). Sending a separate n = 1 record with that seed gives sample k's tokens.
 */
public final class SeedDerivation {
    private static final long FNV_OFFSET_BASIS = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private SeedDerivation() {}

    /** The seed of sample {@code index} (0-based) of a request seeded with {@code seed}. */
    public static long sampleSeed(long seed, int index) {
        if (index < 0) {
            throw new IllegalArgumentException("sample index must be >= 0, got " + index);
        }
        if (index == 0) {
            return seed;
        }
        long z = seed + index * 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    public static long seedFromId(String id) {
        long hash = FNV_OFFSET_BASIS;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            hash ^= (b & 0xff);
            hash *= FNV_PRIME;
        }
        return hash;
    }
}
