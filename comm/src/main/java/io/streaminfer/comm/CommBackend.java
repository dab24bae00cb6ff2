package io.streaminfer.comm;

import java.util.Locale;

/** Which implementation carries a group's collectives. Chosen from configuration, never by fallback. */
public enum CommBackend {
    /** Ranks are threads of one JVM; peers read each other's heap arrays directly. */
    IN_PROCESS,
    /** One NCCL communicator per rank and CUDA device, all in this process. */
    NCCL;

    /** Parses {@code in-process}, {@code in_process} or {@code nccl}, case-insensitive. */
    public static CommBackend parse(String text) {
        String key = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (CommBackend b : values()) {
            if (b.name().equals(key)) {
                return b;
            }
        }
        throw new IllegalArgumentException(
                "unknown comm backend '" + text + "'; expected one of: in-process, nccl");
    }
}
