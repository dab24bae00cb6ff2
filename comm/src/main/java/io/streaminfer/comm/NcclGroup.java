package io.streaminfer.comm;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A single-process NCCL group: rank r runs on CUDA device firstDevice + r (0 unless the group is one
 * pipeline stage of several) with its own NCCL communicator (from
 * ncclCommInitAll) and its own stream. The ranks are threads of this JVM, so the group can record
 * which collective each rank has entered and blame the late one on a timeout.
 */
final class NcclGroup extends AbstractCommGroup {
    private final CommOptions options;
    private final Runnable onClose;
    private final ncclComm[] comms;                // (size) one per rank and device
    private final NcclCommunicator[] communicators;
    private final AtomicLongArray entered;         // (size) sequence number of the last collective entered
    private final AtomicBoolean closed = new AtomicBoolean();

    private NcclGroup(String name, int size, CommOptions options, Runnable onClose, ncclComm[] comms, int firstDevice) {
        super(name, size);
        this.options = options;
        this.onClose = onClose;
        this.comms = comms;
        this.entered = new AtomicLongArray(size);
        this.communicators = new NcclCommunicator[size];
        for (int r = 0; r < size; r++) {
            communicators[r] = new NcclCommunicator(this, r, firstDevice + r, comms[r]);
        }
    }

    /** Fails at once, naming what is missing, when there is no CUDA device, driver or NCCL library. */
    static NcclGroup create(String name, int size, int firstDevice, CommOptions options, Runnable onClose) {
        String missing = NcclSupport.unavailableReason();
        if (missing != null) {
            throw new IllegalStateException("comm backend NCCL was requested for group " + name
                    + " but cannot run here: " + missing);
        }
        int devices = NcclSupport.deviceCount();
        if (firstDevice < 0 || devices < firstDevice + size) {
            throw new IllegalStateException("comm backend NCCL: group " + name + " needs one CUDA device per rank ("
                    + size + ", from device " + firstDevice + ") but " + devices + " are present");
        }
        int[] devList = new int[size];
        for (int r = 0; r < size; r++) {
            devList[r] = firstDevice + r;
        }
        PointerPointer<ncclComm> handles = new PointerPointer<>(size);
        checkNccl(nccl.ncclCommInitAll(handles, size, devList), "ncclCommInitAll for group " + name);
        ncclComm[] comms = new ncclComm[size];
        for (int r = 0; r < size; r++) {
            comms[r] = handles.get(ncclComm.class, r);
        }
        handles.close();
        return new NcclGroup(name, size, options, onClose, comms, firstDevice);
    }

    static void checkCuda(int err, String what) {
        if (err != cudart.cudaSuccess) {
            throw new IllegalStateException(what + " failed: CUDA error " + err + " ("
                    + cudart.cudaGetErrorString(err).getString() + ")");
        }
    }

    static void checkNccl(int err, String what) {
        if (err != nccl.ncclSuccess) {
            throw new IllegalStateException(what + " failed: NCCL error " + err + " ("
                    + nccl.ncclGetErrorString(err).getString() + ")");
        }
    }

    CommOptions options() {
        return options;
    }

    @Override
    public Communicator communicator(int rank) {
        return ncclCommunicator(rank);
    }

    /** The NCCL communicator of {@code rank}, with its device-pointer collectives and stream. */
    public NcclCommunicator ncclCommunicator(int rank) {
        checkRank(rank);
        return communicators[rank];
    }

    void entered(int rank, long seq) {
        entered.set(rank, seq);
    }

    /** The rank that entered the fewest collectives, blamed when a wait times out. */
    int laggard() {
        int late = 0;
        for (int r = 1; r < size; r++) {
            if (entered.get(r) < entered.get(late)) {
                late = r;
            }
        }
        return late;
    }

    /** Records the first failure and aborts every NCCL communicator so no rank stays blocked. */
    @Override
    void failBecause(int rank, String message, Throwable cause) {
        if (recordFailure(rank, message, cause)) {
            for (ncclComm c : comms) {
                nccl.ncclCommAbort(c);
            }
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            boolean failed = failed();
            for (NcclCommunicator c : communicators) {
                c.releaseBuffers();
            }
            if (!failed) {
                recordFailure(-1, "group " + name + " was closed", null);
                for (ncclComm c : comms) {
                    nccl.ncclCommDestroy(c);
                }
            }
            onClose.run();
        }
    }
}
