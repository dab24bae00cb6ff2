package io.streaminfer.comm;

import java.util.concurrent.locks.LockSupport;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * One rank of an NCCL group, bound to one CUDA device and one stream.
 *
 * <p>Two kinds of calls:
 * <ul>
 *   <li>Device calls ({@code ...Device}) take device pointers and only enqueue on {@link #stream()};
 *       the GPU engine keeps its layers and collectives on that stream. allReduceDevice uses NCCL's
 *       own summation order, which is not {@link FixedOrder}.</li>
 *   <li>The {@link Communicator} heap-array calls stage through device memory and wait (bounded by the
 *       group timeout). Their sums are FixedOrder-exact: NCCL all-gathers every rank's contribution
 *       and the host adds them in tree order. They first all-gather a small header so that ranks that
 *       disagree on the call fail with a clear error instead of corrupting each other.</li>
 * </ul>
 */
public final class NcclCommunicator extends AbstractCommunicator<NcclGroup> implements DeviceCollectives {
    private static final int HEADER = 4; // (op, length, root, seq)

    private final int device;
    private final ncclComm comm;
    private final CUstream_st stream;
    private final TreeReducer reducer;
    private final long timeoutNanos;
    private long seq;
    private volatile boolean closed;

    private final Staging sendStaging = new Staging();     // this rank's operand
    private final Staging recvStaging = new Staging();     // gathered results
    private IntPointer deviceHeader = new IntPointer();    // (HEADER + size * HEADER)
    private final IntPointer hostHeader;                   // (HEADER + size * HEADER)

    NcclCommunicator(NcclGroup group, int rank, int device, ncclComm comm) {
        super(group, rank);
        this.device = device;
        this.comm = comm;
        this.reducer = new TreeReducer(size);
        this.timeoutNanos = group.options().timeout().toNanos();
        NcclGroup.checkCuda(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
        this.stream = new CUstream_st();
        NcclGroup.checkCuda(cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking),
                "cudaStreamCreate on device " + device);
        int headerInts = HEADER + size * HEADER;
        NcclGroup.checkCuda(cudart.cudaMalloc(deviceHeader, 4L * headerInts), "cudaMalloc header");
        this.hostHeader = new IntPointer(headerInts);
    }

    /** CUDA device of this rank. */
    @Override
    public int device() {
        return device;
    }

    /** The stream every collective of this rank is enqueued on. */
    @Override
    public CUstream_st stream() {
        return stream;
    }

    // ---- device-pointer collectives: enqueue on stream(), no wait ----

    /** In place on the device, NCCL's summation order. */
    @Override
    public void allReduceDevice(Pointer buf, long count) {
        enter("allReduceDevice");
        check(nccl.ncclAllReduce(buf, buf, count, nccl.ncclFloat32, nccl.ncclSum, comm, stream), "ncclAllReduce");
    }

    /** {@code recv} holds {@code size() * count} floats afterwards, rank r's block at r * count. */
    @Override
    public void allGatherDevice(Pointer send, Pointer recv, long count) {
        enter("allGatherDevice");
        check(nccl.ncclAllGather(send, recv, count, nccl.ncclFloat32, comm, stream), "ncclAllGather");
    }

    /** {@code send} holds {@code size() * count} floats; recv gets the sum of block rank(). */
    @Override
    public void reduceScatterDevice(Pointer send, Pointer recv, long count) {
        enter("reduceScatterDevice");
        check(nccl.ncclReduceScatter(send, recv, count, nccl.ncclFloat32, nccl.ncclSum, comm, stream),
                "ncclReduceScatter");
    }

    @Override
    public void broadcastDevice(Pointer buf, long count, int root) {
        Checks.root(where("broadcastDevice"), root, size);
        enter("broadcastDevice");
        check(nccl.ncclBroadcast(buf, buf, count, nccl.ncclFloat32, root, comm, stream), "ncclBroadcast");
    }

    /** Waits until everything enqueued on this rank's stream is done, at most the group timeout. */
    @Override
    public void synchronize() {
        waitStream("synchronize");
    }

    @Override
    public java.util.Optional<DeviceCollectives> deviceCollectives() {
        return java.util.Optional.of(this);
    }

    // ---- heap-array collectives (the Communicator contract) ----

    @Override
    public void allReduce(float[] buf, int offset, int length) {
        Checks.range(where("allReduce"), "buf", buf, offset, length);
        agree(1, length, 0);
        float[] gathered = gatherToHost(buf, offset, length);        // (size, length)
        int[] offsets = new int[size];
        float[][] parts = new float[size][];
        for (int r = 0; r < size; r++) {
            parts[r] = gathered;
            offsets[r] = r * length;
        }
        reducer.sum(parts, offsets, 0, length, buf, offset);
    }

    @Override
    public void allGather(float[] send, int sendOffset, int count, float[] recv, int recvOffset) {
        String where = where("allGather");
        Checks.range(where, "send", send, sendOffset, count);
        Checks.range(where, "recv", recv, recvOffset, (long) count * size);
        agree(2, count, 0);
        float[] gathered = gatherToHost(send, sendOffset, count);
        System.arraycopy(gathered, 0, recv, recvOffset, count * size);
    }

    @Override
    public void reduceScatter(float[] send, int sendOffset, int count, float[] recv, int recvOffset) {
        String where = where("reduceScatter");
        Checks.range(where, "send", send, sendOffset, (long) count * size);
        Checks.range(where, "recv", recv, recvOffset, count);
        agree(3, count, 0);
        int total = count * size;
        float[] gathered = gatherToHost(send, sendOffset, total);    // (size, size, count)
        int[] offsets = new int[size];
        float[][] parts = new float[size][];
        for (int r = 0; r < size; r++) {
            parts[r] = gathered;
            offsets[r] = r * total + rank * count;
        }
        reducer.sum(parts, offsets, 0, count, recv, recvOffset);
    }

    @Override
    public void broadcast(float[] buf, int offset, int length, int root) {
        String where = where("broadcast");
        Checks.range(where, "buf", buf, offset, length);
        Checks.root(where, root, size);
        agree(4, length, root);
        FloatPointer deviceSend = sendStaging.ensure(length);
        try (FloatPointer host = new FloatPointer(Math.max(1, length))) {
            host.put(buf, offset, length);
            copy(deviceSend, host, 4L * length, cudart.cudaMemcpyHostToDevice);
            check(nccl.ncclBroadcast(deviceSend, deviceSend, length, nccl.ncclFloat32, root, comm, stream),
                    "ncclBroadcast");
            copy(host, deviceSend, 4L * length, cudart.cudaMemcpyDeviceToHost);
            waitStream("broadcast");
            host.get(buf, offset, length);
        }
    }

    @Override
    public void barrier() {
        agree(5, 0, 0);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            group.rankClosed(rank);
        }
    }

    // ---- internals ----

    private void enter(String op) {
        if (closed) {
            throw new IllegalStateException(where(op) + " after close()");
        }
        group.throwIfFailed(rank);
        group.entered(rank, ++seq);
        check(cudart.cudaSetDevice(device), "cudaSetDevice");
    }

    /** All-gathers (op, length, root, seq) and fails the group if any rank disagrees. */
    private void agree(int op, int length, int root) {
        enter("collective");
        hostHeader.put(0, op).put(1, length).put(2, root).put(3, (int) seq);
        copy(deviceHeader, hostHeader, 4L * HEADER, cudart.cudaMemcpyHostToDevice);
        Pointer gatheredHeaders = deviceHeader.getPointer(HEADER);
        check(nccl.ncclAllGather(deviceHeader, gatheredHeaders, HEADER, nccl.ncclInt32, comm, stream),
                "ncclAllGather(header)");
        copy(hostHeader.getPointer(HEADER), gatheredHeaders, 4L * HEADER * size, cudart.cudaMemcpyDeviceToHost);
        waitStream("collective #" + seq);
        for (int r = 0; r < size; r++) {
            for (int k = 0; k < 3; k++) {
                if (hostHeader.get(HEADER + r * HEADER + k) != hostHeader.get(k)) {
                    String msg = "group " + group.name() + ": ranks disagree on collective #" + seq + ": rank "
                            + rank + " called op " + op + " (length=" + length + ", root=" + root + "), rank " + r
                            + " called op " + hostHeader.get(HEADER + r * HEADER) + " (length="
                            + hostHeader.get(HEADER + r * HEADER + 1) + ")";
                    group.failBecause(r, msg, null);
                    group.throwIfFailed(rank);
                }
            }
        }
    }

    /** Copies {@code count} floats to the device, all-gathers them and returns (size, count) on the host. */
    private float[] gatherToHost(float[] src, int offset, int count) {
        long total = (long) count * size;
        FloatPointer deviceSend = sendStaging.ensure(count);
        FloatPointer deviceRecv = recvStaging.ensure(total);
        float[] out = new float[(int) total];
        try (FloatPointer host = new FloatPointer(Math.max(1, total))) {
            host.put(src, offset, count);
            copy(deviceSend, host, 4L * count, cudart.cudaMemcpyHostToDevice);
            check(nccl.ncclAllGather(deviceSend, deviceRecv, count, nccl.ncclFloat32, comm, stream), "ncclAllGather");
            copy(host, deviceRecv, 4L * total, cudart.cudaMemcpyDeviceToHost);
            waitStream("allGather");
            host.get(out, 0, (int) total);
        }
        return out;
    }

    /** A device staging buffer that grows to the largest operand it has held. */
    private final class Staging {
        private FloatPointer buffer = new FloatPointer();  // (capacity)
        private long capacity;

        /** The buffer, reallocated first if it holds fewer than {@code floats}. */
        FloatPointer ensure(long floats) {
            if (floats > capacity) {
                cudart.cudaFree(buffer);
                buffer = new FloatPointer();
                check(cudart.cudaMalloc(buffer, 4L * floats), "cudaMalloc(" + 4L * floats + " bytes)");
                capacity = floats;
            }
            return buffer;
        }

        void free() {
            cudart.cudaFree(buffer);
            capacity = 0;
        }
    }

    private void copy(Pointer dst, Pointer src, long bytes, int kind) {
        if (bytes > 0) {
            check(cudart.cudaMemcpyAsync(dst, src, bytes, kind, stream), "cudaMemcpyAsync");
        }
    }

    /** Polls the stream until done; on timeout fails the group, blaming the rank that is furthest behind. */
    private void waitStream(String what) {
        long start = System.nanoTime();
        int[] asyncError = {0};
        while (true) {
            int err = cudart.cudaStreamQuery(stream);
            if (err == cudart.cudaSuccess) {
                return;
            }
            if (err != cudart.cudaErrorNotReady) {
                group.failBecause(rank, where(what) + ": CUDA error " + err, null);
                group.throwIfFailed(rank);
            }
            group.throwIfFailed(rank);
            nccl.ncclCommGetAsyncError(comm, asyncError);
            if (asyncError[0] != nccl.ncclSuccess && asyncError[0] != nccl.ncclInProgress) {
                group.failBecause(rank, where(what) + ": NCCL async error " + asyncError[0], null);
                group.throwIfFailed(rank);
            }
            long waited = System.nanoTime() - start;
            if (waited > timeoutNanos) {
                int late = group.laggard();
                group.failBecause(late, "group " + group.name() + ": rank " + late + " did not complete " + what
                        + " within " + group.options().timeout(), null);
                group.throwIfFailed(rank);
            }
            if (waited < 50_000) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(20_000);
            }
        }
    }

    private void check(int err, String what) {
        if (err != 0) {
            String msg = where(what) + " failed with error " + err;
            group.failBecause(rank, msg, null);
            group.throwIfFailed(rank);
        }
    }

    void releaseBuffers() {
        closed = true;
        sendStaging.free();
        recvStaging.free();
        cudart.cudaFree(deviceHeader);
        cudart.cudaStreamDestroy(stream);
        hostHeader.close();
    }
}
