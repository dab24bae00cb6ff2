package io.streaminfer.comm;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.Pointer;

/**
 * Point-to-point transfers of a {@link StageLink} over device memory (NCCL: {@code ncclSend} /
 * {@code ncclRecv} inside a group call). Each end enqueues on its own stream and returns at once; the
 * two ends must post the same counts in the same order. Reached through {@link StageLink#deviceLink()}.
 */
public interface DeviceStageLink {

    /** The CUDA device of the sending end. */
    int senderDevice();

    /** The CUDA device of the receiving end. */
    int receiverDevice();

    /** The stream the sender's transfers are enqueued on. */
    CUstream_st senderStream();

    /** The stream the receiver's transfers are enqueued on. */
    CUstream_st receiverStream();

    /** Enqueues sending {@code count} floats at {@code buf} (on the sender's device). */
    void sendDevice(Pointer buf, long count);

    /** Enqueues receiving {@code count} floats into {@code buf} (on the receiver's device). */
    void recvDevice(Pointer buf, long count);

    /** Waits for the sender's stream, at most the link's timeout. */
    void synchronizeSender();

    /** Waits for the receiver's stream, at most the link's timeout. */
    void synchronizeReceiver();
}
