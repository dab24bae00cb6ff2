package io.streaminfer.job.codec;

import io.streaminfer.job.convert.Samples;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Metadata keys the job keeps for itself inside a record: its origin ({@link RecordOrigin#PREFIX}) and its
 * sample bookkeeping ({@link Samples#PREFIX}). Producers may not use them; completions do not carry them.
 */
public final class JobMetadata {
    private static final List<String> RESERVED_PREFIXES = List.of(RecordOrigin.PREFIX, Samples.PREFIX);

    private JobMetadata() {
    }

    /** The first key of {@code metadata} that starts with {@code prefix}, or null. */
    public static String firstKey(Map<String, String> metadata, String prefix) {
        if (metadata != null) {
            for (String key : metadata.keySet()) {
                if (key != null && key.startsWith(prefix)) {
                    return key;
                }
            }
        }
        return null;
    }

    /** {@code metadata} without the keys that start with {@code prefix} (the same map when it has none). */
    public static Map<String, String> without(Map<String, String> metadata, String prefix) {
        if (firstKey(metadata, prefix) == null) {
            return metadata;
        }
        Map<String, String> out = new LinkedHashMap<>();
        metadata.forEach((k, v) -> {
            if (!k.startsWith(prefix)) {
                out.put(k, v);
            }
        });
        return out;
    }

    /** Why {@code metadata} cannot be a producer's (it uses a key of the job's own), or null when it can. */
    public static String reservedKeyReason(Map<String, String> metadata) {
        for (String prefix : RESERVED_PREFIXES) {
            String key = firstKey(metadata, prefix);
            if (key != null) {
                return "metadata key \"" + key + "\" is reserved: keys starting with \"" + prefix + "\" are the job's own";
            }
        }
        return null;
    }
}
