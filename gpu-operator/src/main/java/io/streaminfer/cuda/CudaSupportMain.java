package io.streaminfer.cuda;

import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;

/** Prints whether the CUDA backend can run here and, if so, the devices it would use. Exit 1 if not. */
public final class CudaSupportMain {
    private CudaSupportMain() {}

    public static void main(String[] args) {
        String missing = CudaSupport.unavailableReason();
        if (missing != null) {
            System.out.println("CUDA backend unavailable: " + missing);
            System.exit(1);
        }
        int[] driver = {0};
        int[] runtime = {0};
        cudart.cudaDriverGetVersion(driver);
        cudart.cudaRuntimeGetVersion(runtime);
        System.out.println("CUDA backend available: driver API " + driver[0] + ", runtime " + runtime[0]);
        for (int d = 0; d < CudaSupport.deviceCount(); d++) {
            try (cudaDeviceProp prop = new cudaDeviceProp()) {
                CudaSupport.check(cudart.cudaGetDeviceProperties(prop, d), "cudaGetDeviceProperties(" + d + ")");
                System.out.println("device " + d + ": " + prop.name().getString() + ", compute capability "
                        + prop.major() + "." + prop.minor() + ", " + (prop.totalGlobalMem() >> 20) + " MiB");
            }
        }
    }
}
