package io.streaminfer.compute;

import io.streaminfer.comm.CommBackend;
import io.streaminfer.comm.Communicator;
import java.util.List;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a rank's {@link ComputeBackend} by name: a CPU kernel ({@link #NAMES}) or a device backend served
 * by a {@link DeviceBackendProvider}. Fails fast on an unknown name, a missing Vector API module or a
 * device that is not there, and says in the log which kernel runs.
 */
public final class Backends {
    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    /** The CPU kernels {@link #kernel} accepts. */
    public static final List<String> NAMES = List.of("vector", "scalar", "openblas");

    private Backends() {}

    /**
     * A rank's backend.
     *
     * @param name    a CPU kernel name or a device backend's (e.g. {@code cuda:precision=bf16})
     * @param threads CPU threads the backend owns, the calling thread included (CPU kernels only)
     */
    public static ComputeBackend create(String name, int threads, Communicator communicator) {
        DeviceBackendProvider device = deviceProvider(name);
        if (device != null) {
            return device.create(name, communicator);
        }
        return new CpuBackend(kernel(name, threads));
    }

    /** The collectives a backend's ranks need: in-process for CPU kernels. */
    public static CommBackend commBackendFor(String name) {
        DeviceBackendProvider device = deviceProvider(name);
        return device == null ? CommBackend.IN_PROCESS : device.commBackend();
    }

    /**
     * Refuses a device backend that cannot run here, before anything is loaded. (A CPU kernel always can:
     * the launcher adds the Vector API module, and {@link #kernel} names it if it is still missing.)
     *
     * @throws IllegalArgumentException for an unknown name
     * @throws IllegalStateException naming what is missing (a device, a library)
     */
    public static void requireAvailable(String name) {
        DeviceBackendProvider device = deviceProvider(name);
        if (device != null) {
            String reason = device.unavailableReason(name);
            if (reason != null) {
                throw new IllegalStateException(reason);
            }
            return;
        }
        if (!NAMES.contains(name)) {
            throw unknown(name);
        }
    }

    /**
     * A CPU matrix-product kernel.
     *
     * @param name    {@code vector} (default: batch-invariant Vector-API kernel), {@code scalar} (reference,
     *                same bits as vector, slow) or {@code openblas} (fast at large batches, not batch-invariant)
     * @param threads threads the kernel owns, the calling thread included; at least 1
     */
    public static MatmulKernel kernel(String name, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("compute threads must be >= 1, got " + threads);
        }
        if (name == null) {
            throw unknown(null);
        }
        MatmulKernel kernel;
        switch (name) {
            case "vector":
                if (!VectorSupport.available()) {
                    throw new IllegalStateException(vectorMissing());
                }
                kernel = new VectorMatmul(threads);
                break;
            case "scalar":
                kernel = new ScalarMatmul(threads);
                break;
            case "openblas":
                kernel = new OpenBlasMatmul(threads);
                break;
            default:
                throw unknown(name);
        }
        // Once per kernel (one per rank): which kernel runs is the first thing to check when speed is off.
        LOG.info("matmul kernel: {} ({} thread(s), batch-invariant: {}); Vector API module loaded: {}",
                kernel.name(), threads, kernel.batchInvariant(), VectorSupport.available());
        return kernel;
    }

    private static DeviceBackendProvider deviceProvider(String name) {
        if (name == null) {
            return null;
        }
        for (DeviceBackendProvider provider : ServiceLoader.load(DeviceBackendProvider.class,
                Backends.class.getClassLoader())) {
            if (provider.serves(name)) {
                return provider;
            }
        }
        return null;
    }

    private static String vectorMissing() {
        return "compute backend 'vector' needs module " + VectorSupport.MODULE + ", which is not loaded: run java "
                + "with " + VectorSupport.JVM_FLAG + " (or choose 'scalar', which gives the same bits, slowly)";
    }

    private static IllegalArgumentException unknown(String name) {
        return new IllegalArgumentException("unknown compute backend '" + name + "'; valid names: " + NAMES
                + " or cuda[:precision=fp32|bf16][,device-base=N]");
    }
}
