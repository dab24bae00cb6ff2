package io.streaminfer.comm;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nccl;

/**
 * Finds out whether NCCL can run here, and if not, says which piece is missing. Without the CUDA
 * natives the first touch of cudart throws UnsatisfiedLinkError and every later one
 * NoClassDefFoundError, so both are caught as LinkageError.
 */
public final class NcclSupport {
    private NcclSupport() {}

    /** Null when at least one CUDA device and the NCCL library are usable; otherwise why not. */
    public static String unavailableReason() {
        int[] count = {0};
        try {
            int err = cudart.cudaGetDeviceCount(count);
            if (err != cudart.cudaSuccess) {
                return "the CUDA runtime reports error " + err + " (" + cudart.cudaGetErrorString(err).getString()
                        + ") from cudaGetDeviceCount: no usable CUDA driver or device";
            }
            if (count[0] <= 0) {
                return "no CUDA device is present";
            }
        } catch (LinkageError e) {
            return "the CUDA runtime (libcudart and the JavaCPP org.bytedeco:cuda natives) could not be loaded: " + e;
        }
        try {
            int[] version = {0};
            int err = nccl.ncclGetVersion(version);
            if (err != nccl.ncclSuccess) {
                return "NCCL (libnccl.so.2) reports error " + err + " from ncclGetVersion";
            }
        } catch (LinkageError e) {
            return "NCCL (libnccl.so.2) could not be loaded: " + e;
        }
        return null;
    }

    /** Number of CUDA devices; call only after {@link #unavailableReason()} returned null. */
    static int deviceCount() {
        int[] count = {0};
        NcclGroup.checkCuda(cudart.cudaGetDeviceCount(count), "cudaGetDeviceCount");
        return count[0];
    }
}
