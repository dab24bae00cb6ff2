package io.streaminfer.cuda;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/** One cudaMalloc'ed block of device memory on the current device; freed by {@link #close()}. */
final class DeviceBuffer implements AutoCloseable {
    private final long address;
    private final long bytes;
    private boolean closed;

    private DeviceBuffer(long address, long bytes) {
        this.address = address;
        this.bytes = bytes;
    }

    static DeviceBuffer allocate(long bytes, String what) {
        Pointer p = new Pointer();
        CudaSupport.check(cudart.cudaMalloc(p, Math.max(bytes, 4)), "cudaMalloc(" + bytes + " bytes) for " + what);
        return new DeviceBuffer(p.address(), bytes);
    }

    long address() {
        return address;
    }

    long bytes() {
        return bytes;
    }

    /** The device address {@code byteOffset} bytes in. */
    long at(long byteOffset) {
        return address + byteOffset;
    }

    Pointer pointer() {
        return new AddressPointer(address);
    }

    static Pointer pointer(long deviceAddress) {
        return new AddressPointer(deviceAddress);
    }

    static FloatPointer floats(long deviceAddress) {
        return new FloatPointer(new AddressPointer(deviceAddress));
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cudart.cudaFree(new AddressPointer(address));
        }
    }
}
