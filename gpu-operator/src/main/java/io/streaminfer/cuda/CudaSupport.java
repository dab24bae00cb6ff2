package io.streaminfer.cuda;

import io.streaminfer.comm.NcclSupport;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;

/**
 * Whether the CUDA backend can run here and, if not, which piece is missing. Without the natives the
 * first touch of a JavaCPP class throws UnsatisfiedLinkError and every later one NoClassDefFoundError, so
 * each library is probed on its own and both are caught as LinkageError. Nothing is cached: one JVM hosts
 * many replicas and a probe is cheap once the libraries are loaded.
 */
public final class CudaSupport {
    /** CUDA 13 needs a driver that reports at least this version (13.0). */
    static final int MIN_DRIVER_VERSION = 13000;

    private CudaSupport() {}

    /** Null when the driver, a device, cudart, cuBLAS, NVRTC and NCCL are all usable; otherwise why not. */
    public static String unavailableReason() {
        int[] count = {0};
        int[] driver = {0};
        try {
            int err = cudart.cudaGetDeviceCount(count);
            if (err != cudart.cudaSuccess) {
                return "the CUDA runtime reports error " + err + " (" + errorString(err)
                        + ") from cudaGetDeviceCount: no usable CUDA driver (libcuda.so.1) or device";
            }
            if (count[0] <= 0) {
                return "no CUDA device is present";
            }
            cudart.cudaDriverGetVersion(driver);
        } catch (LinkageError e) {
            return "the CUDA driver and runtime (libcuda.so.1 from the NVIDIA driver, libcudart.so.13, and the "
                    + "JavaCPP org.bytedeco:cuda linux-x86_64 natives) could not be loaded: " + describe(e);
        }
        if (driver[0] < MIN_DRIVER_VERSION) {
            return "the NVIDIA driver supports CUDA " + driver[0] / 1000 + "." + driver[0] % 1000 / 10
                    + " but CUDA 13.0 is needed (driver >= 580)";
        }
        try {
            cublas.cublasGetCudartVersion();
        } catch (LinkageError e) {
            return "cuBLAS (libcublas.so.13 and libcublasLt.so.13) could not be loaded: " + describe(e);
        }
        try {
            int[] major = {0};
            int[] minor = {0};
            int err = nvrtc.nvrtcVersion(major, minor);
            if (err != nvrtc.NVRTC_SUCCESS) {
                return "NVRTC (libnvrtc.so.13) reports error " + err + " from nvrtcVersion";
            }
        } catch (LinkageError e) {
            return "NVRTC (libnvrtc.so.13, the runtime compiler of the kernels) could not be loaded: " + describe(e);
        }
        String nccl = NcclSupport.unavailableReason();
        if (nccl != null) {
            return nccl;
        }
        return null;
    }

    /** The error and its causes (JavaCPP puts the dlopen message of the missing library in a cause). */
    static String describe(Throwable e) {
        StringBuilder text = new StringBuilder(String.valueOf(e));
        for (Throwable c = e.getCause(); c != null && c != e; c = c.getCause()) {
            text.append("; caused by ").append(c);
        }
        return text.toString();
    }

    /** Throws, naming the missing piece, unless {@link #unavailableReason()} is null. */
    public static void requireAvailable(String what) {
        String missing = unavailableReason();
        if (missing != null) {
            throw new IllegalStateException(what + " cannot run here: " + missing);
        }
    }

    /** Number of CUDA devices; call only after {@link #unavailableReason()} returned null. */
    public static int deviceCount() {
        int[] count = {0};
        check(cudart.cudaGetDeviceCount(count), "cudaGetDeviceCount");
        return count[0];
    }

    static void check(int err, String what) {
        if (err != cudart.cudaSuccess) {
            throw new IllegalStateException(what + " failed: CUDA error " + err + " (" + errorString(err) + ")");
        }
    }

    static void checkDriver(int err, String what) {
        if (err != cudart.CUDA_SUCCESS) {
            throw new IllegalStateException(what + " failed: CUDA driver error " + err);
        }
    }

    static void checkCublas(int status, String what) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            throw new IllegalStateException(what + " failed: cuBLAS status " + status);
        }
    }

    private static String errorString(int err) {
        return cudart.cudaGetErrorString(err).getString();
    }
}
