package io.streaminfer.cuda;

/**
 * How much of a device the CUDA backend leaves alone: memory it does not allocate itself is still needed by
 * the CUDA context, cuBLAS workspaces, NCCL's buffers and fragmentation. Every allocation of a rank checks
 * that {@value #MARGIN_FIXED_MIB} MiB plus {@value #MARGIN_PERCENT}% of the device stay free (see
 * {@link CudaDevice#allocate}), so a shard that does not fit is refused with the numbers.
 */
final class CudaMemoryBudget {
    static final long MARGIN_FIXED_MIB = 512;
    static final long MARGIN_PERCENT = 5;

    private CudaMemoryBudget() {}

    /** What is kept free on a device of {@code deviceTotalBytes}. */
    static long marginBytes(long deviceTotalBytes) {
        return (MARGIN_FIXED_MIB << 20) + deviceTotalBytes * MARGIN_PERCENT / 100;
    }

    /** Whether {@code bytes} more can be allocated with {@code freeBytes} free, keeping the margin. */
    static boolean fits(long bytes, long freeBytes, long deviceTotalBytes) {
        return bytes + marginBytes(deviceTotalBytes) <= freeBytes;
    }

    static long mib(long bytes) {
        return bytes >> 20;
    }
}
