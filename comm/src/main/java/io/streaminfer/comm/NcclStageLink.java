package io.streaminfer.comm;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.bytedeco.cuda.cudart.CUevent_st;
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
 *
 * <p>Safe to fail or close from any thread while an end is inside a call:
 * <ul>
 *   <li>every end call holds that end's {@code inUse} lock from its check that the link is open to its
 *       return, and {@link #release()} frees an end's streams and buffers only under that lock, so nothing is
 *       freed that a transfer still uses (the end, polling, sees the failure within microseconds and leaves);</li>
 *   <li>NCCL calls on a communicator are not thread-safe, so an end's calls and the abort of its communicator
 *       are serialised by that end's {@code ncclCalls} monitor; no failure is recorded while holding it;</li>
 *   <li>the host side of every copy is pinned: a copy to or from pageable memory may wait for the stream,
 *       that is for the peer, inside the CUDA call, where no timeout and no failure can reach it;</li>
 *   <li>the link's connection is made at creation (one exchange driven from this thread), so a later
 *       {@code ncclGroupEnd} never waits on the host for a peer that may never come.</li>
 * </ul>
 */
final class NcclStageLink extends AbstractStageLink implements DeviceStageLink {
    private static final int HEADER = 2; // (length, seq)

    private final int[] devices;          // (2) sender's, receiver's
    private final ncclComm[] comms;       // (2)
    private final CUstream_st[] streams;  // (2)
    private final IntPointer[] deviceHeaders = new IntPointer[2];
    private final IntPointer[] hostHeaders = new IntPointer[2];   // pinned (HEADER)
    private final FloatPointer[] staging = new FloatPointer[2];   // device (stagingFloats)
    private final FloatPointer[] hostStaging = new FloatPointer[2]; // pinned (stagingFloats)
    private final long[] stagingFloats = new long[2];
    private final ReentrantLock[] inUse = {new ReentrantLock(), new ReentrantLock()};
    private final Object[] ncclCalls = {new Object(), new Object()};
    private final boolean[] aborted = new boolean[2];              // guarded by ncclCalls[end]
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
            hostHeaders[end] = pinnedInts(HEADER);
            staging[end] = new FloatPointer();
            hostStaging[end] = new FloatPointer();
        }
        connect();
    }

    /**
     * One header-sized exchange posted for both ends from this thread in one group call: NCCL sets up a
     * pair's connection at its first transfer, blocking the host until both ends are there.
     */
    private void connect() {
        NcclGroup.checkNccl(nccl.ncclGroupStart(), "ncclGroupStart for link " + name);
        int send = nccl.ncclSend(deviceHeaders[SENDER], HEADER, nccl.ncclInt32, RECEIVER, comms[SENDER], streams[SENDER]);
        int recv = nccl.ncclRecv(deviceHeaders[RECEIVER], HEADER, nccl.ncclInt32, SENDER, comms[RECEIVER],
                streams[RECEIVER]);
        NcclGroup.checkNccl(nccl.ncclGroupEnd(), "ncclGroupEnd connecting link " + name);
        NcclGroup.checkNccl(send, "ncclSend connecting link " + name);
        NcclGroup.checkNccl(recv, "ncclRecv connecting link " + name);
        for (int end = 0; end < 2; end++) {
            NcclGroup.checkCuda(cudart.cudaSetDevice(devices[end]), "cudaSetDevice(" + devices[end] + ")");
            NcclGroup.checkCuda(cudart.cudaStreamSynchronize(streams[end]), "connecting link " + name);
        }
    }

    private static IntPointer pinnedInts(int ints) {
        IntPointer p = new IntPointer();
        NcclGroup.checkCuda(cudart.cudaMallocHost(p, 4L * ints), "cudaMallocHost(" + 4L * ints + " bytes)");
        return p.capacity(ints);
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
        try {
            return new NcclStageLink(name, capacity, options, onClose, devices, comms);
        } catch (RuntimeException | Error e) {
            for (ncclComm c : comms) {
                nccl.ncclCommAbort(c); // its streams and a few bytes of device memory stay behind: a failed start
            }
            throw e;
        }
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
    public java.util.Optional<DeviceStageLink> deviceLink() {
        return java.util.Optional.of(this);
    }

    @Override
    public void sendDevice(Pointer buf, long count, CUevent_st ready) {
        enter(SENDER, "sendDevice");
        try {
            after(SENDER, ready);
            post(SENDER, buf, count, nccl.ncclFloat32, "ncclSend");
        } finally {
            inUse[SENDER].unlock();
        }
    }

    @Override
    public void recvDevice(Pointer buf, long count, CUevent_st ready, CUevent_st done) {
        enter(RECEIVER, "recvDevice");
        try {
            after(RECEIVER, ready);
            post(RECEIVER, buf, count, nccl.ncclFloat32, "ncclRecv");
            if (done != null) {
                check(RECEIVER, cudart.cudaEventRecord(done, streams[RECEIVER]), "cudaEventRecord");
            }
        } finally {
            inUse[RECEIVER].unlock();
        }
    }

    @Override
    public void synchronizeSender() {
        synchronizeEnd(SENDER, "synchronizeSender", "send");
    }

    @Override
    public void synchronizeReceiver() {
        synchronizeEnd(RECEIVER, "synchronizeReceiver", "recv");
    }

    /** Waits for the end's stream under its lock; the time counts as the device path's wait for the other stage. */
    private void synchronizeEnd(int end, String call, String what) {
        enter(end, call);
        long start = System.nanoTime();
        try {
            waitStream(end, what);
        } finally {
            waited(end, System.nanoTime() - start);
            inUse[end].unlock();
        }
    }

    /** Makes the end's stream wait for {@code ready} (a caller's event), if any. */
    private void after(int end, CUevent_st ready) {
        if (ready != null) {
            check(end, cudart.cudaSetDevice(devices[end]), "cudaSetDevice");
            check(end, cudart.cudaStreamWaitEvent(streams[end], ready, 0), "cudaStreamWaitEvent");
        }
    }

    /** Takes the end's lock, then checks the link is open (releasing the lock if not). */
    private void enter(int end, String op) {
        inUse[end].lock();
        try {
            checkOpen(op);
        } catch (RuntimeException e) {
            inUse[end].unlock();
            throw e;
        }
    }

    /** One ncclSend (end 0, to peer 1) or ncclRecv (end 1, from peer 0) inside a group call. */
    private void post(int end, Pointer buf, long count, int type, String what) {
        check(end, cudart.cudaSetDevice(devices[end]), "cudaSetDevice");
        int start;
        int err;
        int groupEnd;
        synchronized (ncclCalls[end]) {
            throwIfFailed(end == SENDER ? "send" : "recv"); // its communicator may be aborted: touch it no more
            start = nccl.ncclGroupStart();
            err = start != nccl.ncclSuccess ? start : end == SENDER
                    ? nccl.ncclSend(buf, count, type, RECEIVER, comms[SENDER], streams[SENDER])
                    : nccl.ncclRecv(buf, count, type, SENDER, comms[RECEIVER], streams[RECEIVER]);
            groupEnd = start != nccl.ncclSuccess ? nccl.ncclSuccess : nccl.ncclGroupEnd();
        }
        check(end, start, "ncclGroupStart");
        check(end, err, what);
        check(end, groupEnd, "ncclGroupEnd");
    }

    // ---- heap-array transfers (the StageLink contract) ----

    @Override
    public void send(float[] buf, int offset, int length) {
        Checks.range("link " + name + " send", "buf", buf, offset, length);
        enter(SENDER, "send");
        long start = System.nanoTime();
        try {
            // grown while the stream is idle: cudaFree may wait for the device, here for a peer that never comes
            FloatPointer device = ensureStaging(SENDER, length);
            FloatPointer host = hostStaging[SENDER];
            host.put(buf, offset, length);
            // the host buffers are reused: the last send waited for its stream, so their copies are done
            hostHeaders[SENDER].put(0, length).put(1, (int) ++sentSeq);
            copy(SENDER, deviceHeaders[SENDER], hostHeaders[SENDER], 4L * HEADER, cudart.cudaMemcpyHostToDevice);
            post(SENDER, deviceHeaders[SENDER], HEADER, nccl.ncclInt32, "ncclSend(header)");
            copy(SENDER, device, host, 4L * length, cudart.cudaMemcpyHostToDevice);
            if (length > 0) {
                post(SENDER, device, length, nccl.ncclFloat32, "ncclSend");
            }
            waitStream(SENDER, "send");
        } finally {
            waited(SENDER, System.nanoTime() - start);
            inUse[SENDER].unlock();
        }
    }

    @Override
    public void recv(float[] buf, int offset, int length) {
        Checks.range("link " + name + " recv", "buf", buf, offset, length);
        enter(RECEIVER, "recv");
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
            FloatPointer host = hostStaging[RECEIVER];
            if (length > 0) {
                post(RECEIVER, device, length, nccl.ncclFloat32, "ncclRecv");
            }
            copy(RECEIVER, host, device, 4L * length, cudart.cudaMemcpyDeviceToHost);
            waitStream(RECEIVER, "recv");
            host.get(buf, offset, length);
        } finally {
            waited(RECEIVER, System.nanoTime() - start);
            inUse[RECEIVER].unlock();
        }
    }

    /** The end's device staging and its pinned host twin, grown to {@code floats}; only after its stream is idle. */
    private FloatPointer ensureStaging(int end, long length) {
        long floats = Math.max(1, length); // an empty message still gets a (1-float) host buffer to put into
        if (floats > stagingFloats[end]) {
            freeStaging(end);
            FloatPointer device = new FloatPointer();
            check(end, cudart.cudaMalloc(device, 4L * floats), "cudaMalloc(" + 4L * floats + " bytes)");
            staging[end] = device;
            FloatPointer host = new FloatPointer();
            check(end, cudart.cudaMallocHost(host, 4L * floats), "cudaMallocHost(" + 4L * floats + " bytes)");
            hostStaging[end] = host.capacity(floats);
            stagingFloats[end] = floats;
        }
        return staging[end];
    }

    private void freeStaging(int end) {
        if (stagingFloats[end] > 0) {
            cudart.cudaFree(staging[end]);
            cudart.cudaFreeHost(hostStaging[end]);
            staging[end] = new FloatPointer();
            hostStaging[end] = new FloatPointer();
            stagingFloats[end] = 0;
        }
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
            synchronized (ncclCalls[end]) {
                if (!aborted[end]) {
                    nccl.ncclCommGetAsyncError(comms[end], asyncError);
                }
            }
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

    /**
     * Aborts both communicators so that neither end stays blocked in a transfer: each under its end's
     * monitor, so never while that end is inside an NCCL call, and once (an aborted communicator is freed).
     */
    @Override
    void onFailure() {
        for (int end = 0; end < 2; end++) {
            synchronized (ncclCalls[end]) {
                if (!aborted[end]) {
                    aborted[end] = true;
                    nccl.ncclCommAbort(comms[end]);
                }
            }
        }
    }

    /**
     * After close() failed the link (so both communicators are aborted): waits until each end has left its
     * call, then for its stream, and only then frees what the end's transfers use. An end that does not
     * leave within the link's timeout (stuck inside a CUDA call) keeps its memory: leaked, never freed
     * under it.
     */
    @Override
    void release() {
        for (int end = 0; end < 2; end++) {
            boolean idle;
            try {
                idle = inUse[end].tryLock(timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                idle = false;
            }
            if (!idle) {
                continue;
            }
            try {
                cudart.cudaSetDevice(devices[end]);
                cudart.cudaStreamSynchronize(streams[end]); // the aborted NCCL kernels have exited
                freeStaging(end);
                cudart.cudaFree(deviceHeaders[end]);
                cudart.cudaFreeHost(hostHeaders[end]);
                cudart.cudaStreamDestroy(streams[end]);
            } finally {
                inUse[end].unlock();
            }
        }
    }
}
