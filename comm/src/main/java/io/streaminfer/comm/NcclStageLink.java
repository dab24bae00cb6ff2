package io.streaminfer.comm;

import java.util.concurrent.locks.LockSupport;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A stage link over NCCL: a two-rank communicator (rank 0 on the sender's device, rank 1 on the
 * receiver's), each end with its own stream. Device transfers are one {@code ncclSend} or
 * {@code ncclRecv} inside a group call, enqueued without a wait. The heap-array {@link StageLink} calls
 * stage through device memory: the sender posts a header (length, sequence number) and then the payload;
 * the receiver takes the header first, so two ends that disagree on the length fail with a clear error
 * instead of corrupting each other. NCCL matches a pair's sends and receives in order, so messages arrive
 * in the order they were sent; the sender waits until its transfer has completed, so the heap path is a
 * rendezvous whatever the capacity (the device path is the one that overlaps).
 */
final class NcclStageLink extends AbstractStageLink implements DeviceStageLink {
    private static final int HEADER = 2; // (length, seq)

    private final int[] devices;          // (2) sender's, receiver's
    private final ncclComm[] comms;       // (2)
    private final CUstream_st[] streams;  // (2)
    private final IntPointer[] deviceHeaders = new IntPointer[2];
    private final IntPointer[] hostHeaders = new IntPointer[2];
    private final FloatPointer[] staging = new FloatPointer[2];
    private final long[] stagingFloats = new long[2];
    private long sentSeq;
    private long receivedSeq;

    private NcclStageLink(String name, int capacity, CommOptions options, Runnable onClose, int[] devices,
                          ncclComm[] comms) {
        super(name, capacity, options, onClose);
        this.devices = devices;
        this.comms = comms;
        this.streams = new CUstream_st[2];
        for (int end = 0; end < 2; end++) {
            NcclGroup.checkCuda(cudart.cudaSetDevice(devices[end]), "cudaSetDevice(" + devices[end] + ")");
            streams[end] = new CUstream_st();
            NcclGroup.checkCuda(cudart.cudaStreamCreateWithFlags(streams[end], cudart.cudaStreamNonBlocking),
                    "cudaStreamCreate for link " + name);
            deviceHeaders[end] = new IntPointer();
            NcclGroup.checkCuda(cudart.cudaMalloc(deviceHeaders[end], 4L * HEADER), "cudaMalloc link header");
            hostHeaders[end] = new IntPointer(HEADER);
            staging[end] = new FloatPointer();
        }
    }

    /** Fails at once, naming what is missing, without NCCL or with fewer than the two devices. */
    static NcclStageLink create(String name, int capacity, CommOptions options, Runnable onClose, int senderDevice,
                                int receiverDevice) {
        String missing = NcclSupport.unavailableReason();
        if (missing != null) {
            throw new IllegalStateException("comm backend NCCL was requested for link " + name
                    + " but cannot run here: " + missing);
        }
        int present = NcclSupport.deviceCount();
        if (senderDevice == receiverDevice || Math.max(senderDevice, receiverDevice) >= present
                || Math.min(senderDevice, receiverDevice) < 0) {
            throw new IllegalStateException("comm backend NCCL: link " + name + " needs two distinct CUDA devices, got "
                    + senderDevice + " and " + receiverDevice + " of the " + present + " present");
        }
        int[] devices = {senderDevice, receiverDevice};
        PointerPointer<ncclComm> handles = new PointerPointer<>(2);
        NcclGroup.checkNccl(nccl.ncclCommInitAll(handles, 2, devices), "ncclCommInitAll for link " + name);
        ncclComm[] comms = {handles.get(ncclComm.class, 0), handles.get(ncclComm.class, 1)};
        handles.close();
        return new NcclStageLink(name, capacity, options, onClose, devices, comms);
    }

    // ---- device transfers ----

    @Override
    public int senderDevice() {
        return devices[SENDER];
    }

    @Override
    public int receiverDevice() {
        return devices[RECEIVER];
    }

    @Override
    public CUstream_st senderStream() {
        return streams[SENDER];
    }

    @Override
    public CUstream_st receiverStream() {
        return streams[RECEIVER];
    }

    @Override
    public java.util.Optional<DeviceStageLink> deviceLink() {
        return java.util.Optional.of(this);
    }

    @Override
    public void sendDevice(Pointer buf, long count) {
        checkOpen("sendDevice");
        post(SENDER, buf, count, nccl.ncclFloat32, "ncclSend");
    }

    @Override
    public void recvDevice(Pointer buf, long count) {
        checkOpen("recvDevice");
        post(RECEIVER, buf, count, nccl.ncclFloat32, "ncclRecv");
    }

    @Override
    public void synchronizeSender() {
        waitStream(SENDER, "send");
    }

    @Override
    public void synchronizeReceiver() {
        waitStream(RECEIVER, "recv");
    }

    /** One ncclSend (end 0, to peer 1) or ncclRecv (end 1, from peer 0) inside a group call. */
    private void post(int end, Pointer buf, long count, int type, String what) {
        check(end, cudart.cudaSetDevice(devices[end]), "cudaSetDevice");
        check(end, nccl.ncclGroupStart(), "ncclGroupStart");
        int err = end == SENDER
                ? nccl.ncclSend(buf, count, type, RECEIVER, comms[SENDER], streams[SENDER])
                : nccl.ncclRecv(buf, count, type, SENDER, comms[RECEIVER], streams[RECEIVER]);
        int end2 = nccl.ncclGroupEnd();
        check(end, err, what);
        check(end, end2, "ncclGroupEnd");
    }

    // ---- heap-array transfers (the StageLink contract) ----

    @Override
    public void send(float[] buf, int offset, int length) {
        Checks.range("link " + name + " send", "buf", buf, offset, length);
        checkOpen("send");
        long start = System.nanoTime();
        try {
            hostHeaders[SENDER].put(0, length).put(1, (int) ++sentSeq);
            copy(SENDER, deviceHeaders[SENDER], hostHeaders[SENDER], 4L * HEADER, cudart.cudaMemcpyHostToDevice);
            post(SENDER, deviceHeaders[SENDER], HEADER, nccl.ncclInt32, "ncclSend(header)");
            FloatPointer device = ensureStaging(SENDER, length);
            try (FloatPointer host = new FloatPointer(Math.max(1, length))) {
                host.put(buf, offset, length);
                copy(SENDER, device, host, 4L * length, cudart.cudaMemcpyHostToDevice);
                if (length > 0) {
                    post(SENDER, device, length, nccl.ncclFloat32, "ncclSend");
                }
                waitStream(SENDER, "send");
            }
        } finally {
            waited(SENDER, System.nanoTime() - start);
        }
    }

    @Override
    public void recv(float[] buf, int offset, int length) {
        Checks.range("link " + name + " recv", "buf", buf, offset, length);
        checkOpen("recv");
        long start = System.nanoTime();
        try {
            post(RECEIVER, deviceHeaders[RECEIVER], HEADER, nccl.ncclInt32, "ncclRecv(header)");
            copy(RECEIVER, hostHeaders[RECEIVER], deviceHeaders[RECEIVER], 4L * HEADER, cudart.cudaMemcpyDeviceToHost);
            waitStream(RECEIVER, "recv");
            if (hostHeaders[RECEIVER].get(1) != (int) ++receivedSeq) {
                failBecause(SENDER, "link " + name + ": message " + hostHeaders[RECEIVER].get(1) + " arrived where "
                        + receivedSeq + " was due", null);
                throwIfFailed("recv");
            }
            lengthsAgree(hostHeaders[RECEIVER].get(0), length);
            FloatPointer device = ensureStaging(RECEIVER, length);
            try (FloatPointer host = new FloatPointer(Math.max(1, length))) {
                if (length > 0) {
                    post(RECEIVER, device, length, nccl.ncclFloat32, "ncclRecv");
                }
                copy(RECEIVER, host, device, 4L * length, cudart.cudaMemcpyDeviceToHost);
                waitStream(RECEIVER, "recv");
                host.get(buf, offset, length);
            }
        } finally {
            waited(RECEIVER, System.nanoTime() - start);
        }
    }

    private FloatPointer ensureStaging(int end, long floats) {
        if (floats > stagingFloats[end]) {
            cudart.cudaFree(staging[end]);
            staging[end] = new FloatPointer();
            check(end, cudart.cudaMalloc(staging[end], 4L * floats), "cudaMalloc(" + 4L * floats + " bytes)");
            stagingFloats[end] = floats;
        }
        return staging[end];
    }

    private void copy(int end, Pointer dst, Pointer src, long bytes, int kind) {
        if (bytes > 0) {
            check(end, cudart.cudaMemcpyAsync(dst, src, bytes, kind, streams[end]), "cudaMemcpyAsync");
        }
    }

    /** Polls the end's stream until done; on timeout fails the link, blaming the other end. */
    private void waitStream(int end, String what) {
        long start = System.nanoTime();
        int[] asyncError = {0};
        String op = end == SENDER ? "send" : "recv";
        while (true) {
            int err = cudart.cudaStreamQuery(streams[end]);
            if (err == cudart.cudaSuccess) {
                return;
            }
            if (err != cudart.cudaErrorNotReady) {
                failBecause(end, "link " + name + " " + what + ": CUDA error " + err, null);
            }
            throwIfFailed(op);
            nccl.ncclCommGetAsyncError(comms[end], asyncError);
            if (asyncError[0] != nccl.ncclSuccess && asyncError[0] != nccl.ncclInProgress) {
                failBecause(end, "link " + name + " " + what + ": NCCL async error " + asyncError[0], null);
                throwIfFailed(op);
            }
            if (System.nanoTime() - start > timeoutNanos) {
                failBecause(1 - end, "link " + name + ": the " + (end == SENDER ? "receiver" : "sender")
                        + " did not complete its " + (end == SENDER ? "recv" : "send") + " within " + timeoutText, null);
                throwIfFailed(op);
            }
            if (System.nanoTime() - start < 50_000) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(20_000);
            }
        }
    }

    private void check(int end, int err, String what) {
        if (err != 0) {
            failBecause(end, "link " + name + " " + what + " failed with error " + err, null);
            throwIfFailed(end == SENDER ? "send" : "recv");
        }
    }

    /** Aborts both communicators so that neither end stays blocked in a transfer. */
    @Override
    void onFailure() {
        for (ncclComm c : comms) {
            nccl.ncclCommAbort(c);
        }
    }

    @Override
    void release() {
        for (int end = 0; end < 2; end++) {
            cudart.cudaSetDevice(devices[end]);
            cudart.cudaStreamSynchronize(streams[end]);
            cudart.cudaFree(staging[end]);
            cudart.cudaFree(deviceHeaders[end]);
            cudart.cudaStreamDestroy(streams[end]);
            hostHeaders[end].close();
        }
    }
}
