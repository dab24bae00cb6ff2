package io.streaminfer.cuda;

import io.streaminfer.comm.CommBackend;
import io.streaminfer.comm.Communicator;
import io.streaminfer.compute.ComputeBackend;
import io.streaminfer.compute.DeviceBackendProvider;

/**
 * Serves {@code cuda[:precision=fp32|bf16][,device-base=N]} to {@link io.streaminfer.compute.Backends},
 * through {@link java.util.ServiceLoader}: nothing outside this package names a CUDA class.
 */
public final class CudaBackendProvider implements DeviceBackendProvider {

    @Override
    public boolean serves(String backendName) {
        return CudaOptions.isCuda(backendName);
    }

    @Override
    public CommBackend commBackend() {
        return CommBackend.NCCL;
    }

    @Override
    public String unavailableReason(String backendName) {
        CudaOptions.parse(backendName); // a malformed name is an argument error, not a missing device
        String missing = CudaSupport.unavailableReason();
        return missing == null ? null : "backend " + backendName + " cannot run here: " + missing;
    }

    @Override
    public ComputeBackend create(String backendName, Communicator communicator) {
        CudaOptions options = CudaOptions.parse(backendName);
        CudaSupport.requireAvailable("backend " + backendName);
        return new CudaBackend(options, communicator);
    }
}
