package io.streaminfer.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The {@code kernelParams} block of cuLaunchKernel, reused from launch to launch: slot i (8 bytes) holds
 * the value of argument i, and entry i of {@link #params()} points at slot i. The driver reads as many
 * bytes of a slot as the parameter has (8 for a pointer, 4 for an int or float, which sit in the slot's
 * first, little-endian, half). Host memory only: no CUDA is needed to build or test it.
 */
final class KernelArgs implements AutoCloseable {
    static final int MAX_ARGS = 16;

    private final LongPointer slots = new LongPointer(MAX_ARGS);
    private final IntPointer slotInts = new IntPointer(slots).capacity(2L * MAX_ARGS);
    private final FloatPointer slotFloats = new FloatPointer(slots).capacity(2L * MAX_ARGS);
    private final PointerPointer<?> params = new PointerPointer<>(MAX_ARGS);
    private int count;

    KernelArgs() {
        for (int i = 0; i < MAX_ARGS; i++) {
            params.put(i, new AddressPointer(slots.address() + 8L * i));
        }
    }

    KernelArgs clear() {
        count = 0;
        return this;
    }

    /** A device pointer (0 for a null pointer). */
    KernelArgs ptr(long deviceAddress) {
        slots.put(next(), deviceAddress);
        return this;
    }

    KernelArgs i32(int value) {
        slotInts.put(2L * next(), value);
        return this;
    }

    KernelArgs f32(float value) {
        slotFloats.put(2L * next(), value);
        return this;
    }

    private int next() {
        if (count == MAX_ARGS) {
            throw new IllegalStateException("more than " + MAX_ARGS + " kernel arguments");
        }
        return count++;
    }

    int count() {
        return count;
    }

    PointerPointer<?> params() {
        return params;
    }

    /** Address of slot i, for tests. */
    long slotAddress(int i) {
        return slots.address() + 8L * i;
    }

    @Override
    public void close() {
        params.close();
        slots.close();
    }
}
