package io.streaminfer.cuda;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rank's CUDA device: its stream (the NCCL stream when the group has one), every block of memory the
 * rank allocates there, and the copies between host and device. Each allocation first checks that it
 * leaves {@link CudaMemoryBudget#marginBytes the margin} free, so a shard that does not fit is refused
 * with the numbers, not with a bare cudaMalloc error.
 */
final class CudaDevice implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CudaDevice.class);

    private final int index;
    private final int rank;
    private final CUstream_st stream;
    private final boolean ownsStream;
    private final List<DeviceBuffer> buffers = new ArrayList<>();
    private final List<Pointer> pinned = new ArrayList<>();
    private final long totalBytes;
    private long allocated;
    private boolean closed;

    private CudaDevice(int index, int rank, CUstream_st stream, boolean ownsStream, long totalBytes) {
        this.index = index;
        this.rank = rank;
        this.stream = stream;
        this.ownsStream = ownsStream;
        this.totalBytes = totalBytes;
    }

    /** Makes device {@code index} current on this thread and takes its stream (a new one when null). */
    static CudaDevice open(int index, int rank, CUstream_st groupStream) {
        CudaSupport.requireAvailable("the CUDA backend");
        int devices = CudaSupport.deviceCount();
        if (index >= devices) {
            throw new IllegalStateException("rank " + rank + " needs CUDA device " + index + " but only " + devices
                    + " are present");
        }
        CudaSupport.check(cudart.cudaSetDevice(index), "cudaSetDevice(" + index + ")");
        CUstream_st stream = groupStream;
        boolean owns = false;
        if (stream == null) {
            stream = new CUstream_st();
            CudaSupport.check(cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking), "cudaStreamCreate");
            owns = true;
        }
        long[] memory = memoryInfo(index);
        LOG.info("rank {} on CUDA device {} ({}): {} MiB free of {}", rank, index, deviceName(index),
                memory[0] >> 20, memory[1] >> 20);
        return new CudaDevice(index, rank, stream, owns, memory[1]);
    }

    int index() {
        return index;
    }

    CUstream_st stream() {
        return stream;
    }

    void select() {
        CudaSupport.check(cudart.cudaSetDevice(index), "cudaSetDevice(" + index + ")");
    }

    long allocatedBytes() {
        return allocated;
    }

    /** Device memory for {@code what}, refused with every number when it would eat into the margin. */
    long allocate(long bytes, String what) {
        long free = memoryInfo(index)[0];
        long margin = CudaMemoryBudget.marginBytes(totalBytes);
        if (!CudaMemoryBudget.fits(bytes, free, totalBytes)) {
            throw new IllegalStateException("rank " + rank + " does not fit on CUDA device " + index + ": " + what
                    + " needs " + CudaMemoryBudget.mib(bytes) + " MiB after " + CudaMemoryBudget.mib(allocated)
                    + " MiB already allocated, but only " + CudaMemoryBudget.mib(free) + " MiB of "
                    + CudaMemoryBudget.mib(totalBytes) + " MiB are free and " + CudaMemoryBudget.mib(margin)
                    + " MiB stay free as a margin; lower --max-batch or --max-context, use bf16 weights or a larger "
                    + "TP degree");
        }
        DeviceBuffer b = DeviceBuffer.allocate(bytes, what + " on device " + index);
        buffers.add(b);
        allocated += bytes;
        return b.address();
    }

    /** Copies host floats into new device memory. */
    long upload(float[] values, String what) {
        long address = allocate(4L * values.length, what);
        try (FloatPointer host = new FloatPointer(values)) {
            copyToDevice(address, host, 4L * values.length, what);
        }
        return address;
    }

    void copyToDevice(long address, Pointer host, long bytes, String what) {
        CudaSupport.check(cudart.cudaMemcpy(DeviceBuffer.pointer(address), host, bytes, cudart.cudaMemcpyHostToDevice),
                "upload of " + what);
    }

    void copyToDeviceAsync(long address, Pointer host, long bytes, String what) {
        CudaSupport.check(cudart.cudaMemcpyAsync(DeviceBuffer.pointer(address), host, bytes,
                cudart.cudaMemcpyHostToDevice, stream), "copy of " + what);
    }

    void copyToHostAsync(Pointer host, long address, long bytes, String what) {
        CudaSupport.check(cudart.cudaMemcpyAsync(host, DeviceBuffer.pointer(address), bytes,
                cudart.cudaMemcpyDeviceToHost, stream), "copy of " + what + " to the host");
    }

    /** Page-locked host memory, freed with the device. */
    Pointer pinned(long bytes, String what) {
        Pointer p = new Pointer();
        CudaSupport.check(cudart.cudaMallocHost(p, bytes), "cudaMallocHost(" + bytes + " bytes) for " + what);
        pinned.add(p);
        return p;
    }

    void synchronize() {
        CudaSupport.check(cudart.cudaStreamSynchronize(stream), "CUDA step on device " + index);
    }

    void synchronizeQuietly() {
        if (!closed) {
            cudart.cudaStreamSynchronize(stream);
        }
    }

    private static long[] memoryInfo(int index) {
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            CudaSupport.check(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo on device " + index);
            return new long[] {free.get(), total.get()};
        }
    }

    private static String deviceName(int index) {
        try (cudaDeviceProp prop = new cudaDeviceProp()) {
            CudaSupport.check(cudart.cudaGetDeviceProperties(prop, index), "cudaGetDeviceProperties");
            return prop.name().getString();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        cudart.cudaSetDevice(index);
        cudart.cudaStreamSynchronize(stream);
        for (DeviceBuffer b : buffers) {
            b.close();
        }
        buffers.clear();
        for (Pointer p : pinned) {
            cudart.cudaFreeHost(p);
        }
        pinned.clear();
        if (ownsStream) {
            cudart.cudaStreamDestroy(stream);
        }
    }
}
