package io.streaminfer.engine;

import io.streaminfer.compute.KvGeometry;
import java.io.Serializable;
import java.util.Locale;

/**
 * How a replica's KV cache is sized and shared.
 *
 * @param memoryBytes the whole replica's KV budget in bytes, over all its ranks; 0: derived from the model
 *     and the heap ({@link KvCacheSizing})
 * @param prefixCaching whether full blocks are cached by content and reused by later prompts
 * @param blockSize positions per KV block
 */
public record KvCacheSettings(long memoryBytes, boolean prefixCaching, int blockSize) implements Serializable {
    public KvCacheSettings {
        if (memoryBytes < 0) {
            throw new IllegalArgumentException("--kv-cache-memory must be >= 0, got " + memoryBytes);
        }
        if (blockSize < KvGeometry.KEY_LANES || blockSize % KvGeometry.KEY_LANES != 0) {
            throw new IllegalArgumentException("the KV block size must be a positive multiple of "
                    + KvGeometry.KEY_LANES + ", got " + blockSize);
        }
    }

    /** A derived budget, prefix caching on, the default block size. */
    public static KvCacheSettings defaults() {
        return new KvCacheSettings(0, true, KvGeometry.DEFAULT_BLOCK_SIZE);
    }

    public KvCacheSettings withMemory(long bytes) {
        return new KvCacheSettings(bytes, prefixCaching, blockSize);
    }

    public KvCacheSettings withPrefixCaching(boolean on) {
        return new KvCacheSettings(memoryBytes, on, blockSize);
    }

    public KvCacheSettings withBlockSize(int positions) {
        return new KvCacheSettings(memoryBytes, prefixCaching, positions);
    }

    /** Bytes of one position's keys and values over the whole model (fp32, every layer and KV head). */
    public static long bytesPerPosition(io.streaminfer.model.ModelConfig model) {
        return 2L * model.numberOfLayers() * model.kvDim() * Float.BYTES;
    }

    /**
     * Bytes from a size with an optional k, m or g suffix (powers of 1024), e.g. {@code 512m}, {@code 2g},
     * {@code 1048576}; {@code option} names the flag in the message of a bad value.
     */
    public static long parseSize(String option, String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (t.endsWith("b")) {
            t = t.substring(0, t.length() - 1);
        }
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                default -> unit = 1;
            }
            if (unit > 1) {
                t = t.substring(0, t.length() - 1);
            }
        }
        try {
            double value = Double.parseDouble(t);
            if (!(value > 0) || value * unit > Long.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return (long) (value * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " '" + text + "' is not a size: a positive number of "
                    + "bytes, optionally with k, m or g (e.g. 512m)");
        }
    }

    /** A size for people: 1.5 GiB, 96 MiB, 12 KiB. */
    public static String describeSize(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
}
