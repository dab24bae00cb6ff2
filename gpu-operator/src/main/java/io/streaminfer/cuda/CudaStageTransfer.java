package io.streaminfer.cuda;

import io.streaminfer.comm.DeviceStageLink;
import io.streaminfer.comm.StageLink;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The rows one {@link CudaBackend} sends to the next pipeline stage or receives from the previous one.
 *
 * <p>Over a link with a device side (NCCL, {@link StageLink#deviceLink()}) the activation buffer's device
 * memory goes to the link as it is: no host copy. The link enqueues on streams of its own, so each hop is
 * ordered with the compute stream:
 * <ul>
 *   <li>send: an event recorded on the compute stream after the last layer makes the link's sender stream
 *       wait before {@code ncclSend} reads the rows; the host returns at once. The buffer must not be
 *       overwritten before the send has read it, so the next step's {@link #beforeStep} waits on the host for
 *       the sender stream (stream synchronisation, within the link's timeout) before the compute stream gets
 *       any work: simpler than a second activation buffer, and the stage still runs one micro-batch ahead
 *       (a link of capacity 0, overlap off, waits at once instead: a rendezvous).</li>
 *   <li>receive: an event on the compute stream makes the receiver stream wait until the compute stream is
 *       done with the buffer, {@code ncclRecv} writes it, and an event recorded after it makes the compute
 *       stream wait (CUDA events: the host goes on enqueuing the layers). {@link #afterReceive} waits for the
 *       receiver stream within the link's timeout before the caller waits for the compute stream, so a
 *       sender that died fails the link instead of hanging the step.</li>
 * </ul>
 * Either way a link's NCCL kernels never run at the same time as the TP group's on this device (NCCL does not
 * promise progress for concurrent kernels of two communicators on one device).
 *
 * <p>Over a host-only link (in process) the rows go device -&gt; pinned host -&gt; heap -&gt; link and back.
 * Used by the backend's rank thread only.
 */
final class CudaStageTransfer implements AutoCloseable {
    private final CudaDevice device;
    private final Runnable waitForCompute;  // the backend's wait for its compute stream (with a timeout if it has one)
    private CUevent_st computeDone;         // recorded on the compute stream
    private CUevent_st received;            // recorded by the link once ncclRecv has written the rows
    private DeviceStageLink pendingSend;    // a send enqueued and perhaps not yet read out of the buffer
    private DeviceStageLink pendingReceive; // a receive of this step, perhaps not yet complete
    private FloatPointer host;              // pinned (capacity): rows on their way through the host
    private float[] heap = new float[0];    // (capacity) the same rows for a host-only link

    /**
     * @param waitForCompute waits until everything enqueued on the compute stream is done
     */
    CudaStageTransfer(CudaDevice device, Runnable waitForCompute) {
        this.device = device;
        this.waitForCompute = waitForCompute;
    }

    /** Sends {@code floats} floats at {@code address} (a buffer of {@code capacity} floats) to the next stage. */
    void send(long address, int floats, int capacity, StageLink link) {
        DeviceStageLink deviceLink = link.deviceLink().orElse(null);
        if (deviceLink == null) {
            FloatPointer pinned = hostBuffers(capacity);
            device.copyToHostAsync(pinned, address, 4L * floats, "the rows for the next stage");
            waitForCompute.run();
            pinned.get(heap, 0, floats);
            link.send(heap, 0, floats);
            return;
        }
        requireDevice(deviceLink.senderDevice(), link, "sends");
        ensureEvents();
        // the rows are complete once the compute stream gets here; the send reads them after that
        CudaSupport.check(cudart.cudaEventRecord(computeDone, device.stream()), "cudaEventRecord");
        deviceLink.sendDevice(DeviceBuffer.pointer(address), floats, computeDone);
        pendingSend = deviceLink;
        if (link.capacity() == 0) {
            beforeStep();
        }
    }

    /** Fills {@code floats} floats at {@code address} (a buffer of {@code capacity} floats) from the previous stage. */
    void receive(long address, int floats, int capacity, StageLink link) {
        DeviceStageLink deviceLink = link.deviceLink().orElse(null);
        if (deviceLink == null) {
            FloatPointer pinned = hostBuffers(capacity);
            link.recv(heap, 0, floats);
            pinned.put(heap, 0, floats);
            device.copyToDeviceAsync(address, pinned, 4L * floats, "the rows from the previous stage");
            return;
        }
        requireDevice(deviceLink.receiverDevice(), link, "receives");
        ensureEvents();
        // nothing enqueued before on the compute stream still reads the buffer when the receive writes it
        CudaSupport.check(cudart.cudaEventRecord(computeDone, device.stream()), "cudaEventRecord");
        deviceLink.recvDevice(DeviceBuffer.pointer(address), floats, computeDone, received);
        // the layers that follow on the compute stream read the rows only once they have arrived
        CudaSupport.check(cudart.cudaStreamWaitEvent(device.stream(), received, 0), "cudaStreamWaitEvent");
        pendingReceive = deviceLink;
    }

    /** Before a step's first work: the last step's send has read its rows out of the buffer. */
    void beforeStep() {
        if (pendingSend != null) {
            DeviceStageLink link = pendingSend;
            pendingSend = null;
            link.synchronizeSender();
        }
    }

    /** Before the caller waits for the compute stream: this step's receive has completed (or failed the link). */
    void afterReceive() {
        if (pendingReceive != null) {
            DeviceStageLink link = pendingReceive;
            pendingReceive = null;
            link.synchronizeReceiver();
        }
    }

    private void requireDevice(int linkDevice, StageLink link, String what) {
        if (linkDevice != device.index()) {
            throw new IllegalStateException("link " + link.name() + " " + what + " on CUDA device " + linkDevice
                    + " but this stage's rank runs on device " + device.index());
        }
    }

    private void ensureEvents() {
        if (computeDone == null) {
            device.select();
            computeDone = newEvent();
            received = newEvent();
        }
    }

    private static CUevent_st newEvent() {
        CUevent_st event = new CUevent_st();
        CudaSupport.check(cudart.cudaEventCreateWithFlags(event, cudart.cudaEventDisableTiming), "cudaEventCreate");
        return event;
    }

    private FloatPointer hostBuffers(int capacity) {
        if (host == null) {
            host = new FloatPointer(device.pinned(4L * capacity, "stage rows")).capacity(capacity);
            heap = new float[capacity];
        }
        return host;
    }

    /**
     * Destroys the events once a send still under way has read its rows (the device frees them next); the
     * pinned rows are the device's, freed with it.
     */
    @Override
    public void close() {
        if (pendingSend != null) {
            try {
                beforeStep();
            } catch (RuntimeException e) {
                // a failed or closed link: closing it synchronised its streams, so nothing reads the rows now
            }
        }
        if (computeDone != null) {
            device.select();
            cudart.cudaEventDestroy(computeDone);
            cudart.cudaEventDestroy(received);
            computeDone = null;
            received = null;
        }
    }
}
