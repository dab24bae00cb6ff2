package io.streaminfer.comm;

import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.javacpp.Pointer;

/**
 * Point-to-point transfers of a {@link StageLink} over device memory (NCCL: {@code ncclSend} /
 * {@code ncclRecv} inside a group call). Each end enqueues on a stream of the link's own and returns at
 * once; the two ends must post the same counts in the same order. Callers order the transfers with their
 * own streams through CUDA events, never through the link's streams (those are gone once it closes).
 * Reached through {@link StageLink#deviceLink()}.
 */
public interface DeviceStageLink {

    /** The CUDA device of the sending end. */
    int senderDevice();

    /** The CUDA device of the receiving end. */
    int receiverDevice();

    /**
     * Enqueues sending {@code count} floats at {@code buf} (on the sender's device), to start once
     * {@code ready} (an event recorded on that device, or null) has completed.
     */
    void sendDevice(Pointer buf, long count, CUevent_st ready);

    /**
     * Enqueues receiving {@code count} floats into {@code buf} (on the receiver's device), to start once
     * {@code ready} (or null) has completed, and records {@code done} (or null) once the floats are there.
     */
    void recvDevice(Pointer buf, long count, CUevent_st ready, CUevent_st done);

    /** Waits until every send enqueued so far is complete, at most the link's timeout. */
    void synchronizeSender();

    /** Waits until every receive enqueued so far is complete, at most the link's timeout. */
    void synchronizeReceiver();
}
