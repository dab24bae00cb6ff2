package io.streaminfer.comm;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.Pointer;

/**
 * Collectives over device memory, for communicators whose ranks each own a GPU (NCCL). Calls enqueue on
 * {@link #stream()} and return at once; a backend that queues its own kernels on the same stream gets
 * them ordered with the collectives without a host wait. Reached through
 * {@link Communicator#deviceCollectives()}, never by a downcast.
 */
public interface DeviceCollectives {

    /** The CUDA device this rank runs on. */
    int device();

    /** The stream every collective of this rank is enqueued on. */
    CUstream_st stream();

    /** In place on the device: {@code count} floats become their sum over ranks. */
    void allReduceDevice(Pointer buf, long count);

    /** {@code recv} holds {@code size() * count} floats afterwards, rank r's block at r * count. */
    void allGatherDevice(Pointer send, Pointer recv, long count);

    /** {@code send} holds {@code size() * count} floats; recv gets the sum of this rank's block. */
    void reduceScatterDevice(Pointer send, Pointer recv, long count);

    /** Copies {@code count} floats of rank {@code root} to every other rank. */
    void broadcastDevice(Pointer buf, long count, int root);

    /** Waits until everything enqueued on the stream is done, at most the group's timeout. */
    void synchronize();
}
