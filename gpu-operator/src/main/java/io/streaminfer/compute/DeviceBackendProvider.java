package io.streaminfer.compute;

import io.streaminfer.comm.CommBackend;
import io.streaminfer.comm.Communicator;

/**
 * A compute backend on an accelerator, found through {@link java.util.ServiceLoader} so that the engine
 * and the model never link against it: a CPU run never loads a device class. Registered in
 * {@code META-INF/services/io.streaminfer.compute.DeviceBackendProvider}.
 */
public interface DeviceBackendProvider {

    /** Whether this provider serves a backend name (e.g. {@code cuda}, {@code cuda:precision=bf16}). */
    boolean serves(String backendName);

    /** The collectives its ranks need. */
    CommBackend commBackend();

    /** Why the backend cannot run on this machine (naming the missing device or library), or null. */
    String unavailableReason(String backendName);

    /** Rank {@code communicator.rank()}'s backend; runs on that rank's thread. */
    ComputeBackend create(String backendName, Communicator communicator);
}
