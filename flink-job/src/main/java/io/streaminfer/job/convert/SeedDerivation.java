package io.streaminfer.job.convert;

import java.nio.charset.StandardCharsets;

/**
 * The seed of a request that brings none: 64-bit FNV-1a over the UTF-8 bytes of its id (offset basis
 * 0xcbf29ce484222325, prime 0x100000001b3). Stable across JVMs, platforms and releases, so a replayed
 * or re-sent request samples the same tokens. Changing this function changes every unseeded output.
 */
public final class SeedDerivation {
    private static final long FNV_OFFSET_BASIS = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private SeedDerivation() {}

    public static long seedFromId(String id) {
        long hash = FNV_OFFSET_BASIS;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            hash ^= (b & 0xff);
            hash *= FNV_PRIME;
        }
        return hash;
    }
}
