package io.streaminfer.compute;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds a {@link ComputeBackend} by name; fails fast on an unknown name or a missing Vector API module. */
public final class Backends {
    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    /** The names {@link #create} accepts. */
    public static final List<String> NAMES = List.of("vector", "scalar", "openblas");

    private Backends() {}

    /**
     * @param name    {@code vector} (default: batch-invariant Vector-API kernel), {@code scalar} (reference,
     *                same bits as vector, slow) or {@code openblas} (fast at large batches, not batch-invariant)
     * @param threads threads the backend owns, the calling thread included; at least 1
     */
    public static ComputeBackend create(String name, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("compute threads must be >= 1, got " + threads);
        }
        if (name == null) {
            throw new IllegalArgumentException("compute backend name is null; valid names: " + NAMES);
        }
        ComputeBackend backend;
        switch (name) {
            case "vector":
                if (!VectorSupport.available()) {
                    throw new IllegalStateException("compute backend 'vector' needs module "
                            + VectorSupport.MODULE + ", which is not loaded: run java with "
                            + VectorSupport.JVM_FLAG + " (or choose 'scalar', which gives the same bits, slowly)");
                }
                backend = new VectorBackend(threads);
                break;
            case "scalar":
                backend = new ScalarBackend(threads);
                break;
            case "openblas":
                backend = new OpenBlasBackend(threads);
                break;
            default:
                throw new IllegalArgumentException(
                        "unknown compute backend '" + name + "'; valid names: " + NAMES);
        }
        // Once per backend (one per rank): which kernel runs is the first thing to check when speed is off.
        LOG.info("matmul kernel: {} ({} thread(s), batch-invariant: {}); Vector API module loaded: {}",
                backend.name(), threads, backend.batchInvariant(), VectorSupport.available());
        return backend;
    }
}
