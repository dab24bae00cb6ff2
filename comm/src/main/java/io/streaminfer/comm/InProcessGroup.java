package io.streaminfer.comm;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The state one in-process group shares between its rank threads: each rank's published call, each
 * rank's phase counter, and the first failure. No locks and no queues: a rank publishes its buffer,
 * bumps its phase counter, and peers read its array directly once every counter has reached the phase.
 *
 * <p>Waiting spins for {@link CommOptions#spinWait()}, yields for a bounded time, then parks; an arriving rank unparks the peers
 * that parked. A wait that exceeds {@link CommOptions#timeout()} fails the whole group, blaming the
 * rank that did not arrive.
 */
final class InProcessGroup extends AbstractCommGroup {
    /** Longs between two ranks' phase counters (128 bytes), so they never share a cache line. */
    private static final int PAD = 16;
    /** Longest single park; a safety net so that every waiter re-checks failure and deadline. */
    private static final long MAX_PARK_NANOS = 50_000_000L;
    /** After spinning, yield this long before parking: cheap on an idle core, fair on a busy one. */
    private static final long YIELD_NANOS = 100_000L;

    private final long timeoutNanos;
    private final long spinNanos;
    private final String timeoutText;
    private final Runnable onClose;

    private final AtomicLongArray phases;              // (size * PAD) last phase each rank arrived at
    private final AtomicReferenceArray<Thread> parked; // (size) the thread parked for each rank, or null
    private final AtomicBoolean closed = new AtomicBoolean();
    /** (size) what each rank is calling; written by its owner before it arrives, read by peers after. */
    private final Call[] calls;
    private final InProcessCommunicator[] communicators;

    /** One rank's current collective. Plain fields: the phase counters order the writes and reads. */
    static final class Call {
        Op op;
        long seq;
        float[] array;
        int offset;
        int length;
        int root;

        String describe(int rank) {
            return "rank " + rank + " called " + op.label + "(length=" + length
                    + (op == Op.BROADCAST ? ", root=" + root : "") + ")";
        }
    }

    enum Op {
        ALL_REDUCE("allReduce"), ALL_GATHER("allGather"), REDUCE_SCATTER("reduceScatter"),
        BROADCAST("broadcast"), BARRIER("barrier");

        final String label;

        Op(String label) {
            this.label = label;
        }
    }

    InProcessGroup(String name, int size, CommOptions options, Runnable onClose) {
        super(name, size);
        this.timeoutNanos = options.timeout().toNanos();
        this.spinNanos = options.spinWait().toNanos();
        this.timeoutText = options.timeout().toString();
        this.onClose = onClose;
        this.phases = new AtomicLongArray(size * PAD);
        this.parked = new AtomicReferenceArray<>(size);
        this.calls = new Call[size];
        this.communicators = new InProcessCommunicator[size];
        for (int r = 0; r < size; r++) {
            calls[r] = new Call();
            communicators[r] = new InProcessCommunicator(this, r);
        }
    }

    @Override
    public Communicator communicator(int rank) {
        checkRank(rank);
        return communicators[rank];
    }

    Call call(int rank) {
        return calls[rank];
    }

    /** Records the first failure and wakes every parked rank so it sees it at once. */
    @Override
    void failBecause(int rank, String message, Throwable cause) {
        if (recordFailure(rank, message, cause)) {
            for (int r = 0; r < size; r++) {
                Thread t = parked.get(r);
                if (t != null) {
                    LockSupport.unpark(t);
                }
            }
        }
    }

    /**
     * Marks {@code rank} as arrived at {@code phase} and returns once every rank has, or throws a
     * CommException if the group fails or a peer is later than the timeout.
     */
    void arriveAndAwait(int rank, long phase, Op op, long seq) {
        phases.set(rank * PAD, phase);
        for (int r = 0; r < size; r++) {
            if (r != rank) {
                Thread t = parked.get(r);
                if (t != null) {
                    LockSupport.unpark(t);
                }
            }
        }
        long start = System.nanoTime();
        while (true) {
            // Arrival is checked before failure: a phase every rank reached is complete, even if a peer
            // closed right after reaching it.
            int late = firstLate(phase);
            if (late < 0) {
                return;
            }
            throwIfFailed(rank);
            long waited = System.nanoTime() - start;
            if (waited < spinNanos) {
                Thread.onSpinWait();
                continue;
            }
            if (waited < spinNanos + YIELD_NANOS) {
                // Oversubscribed cores: hand the core to the peer we wait for instead of burning it.
                Thread.yield();
                continue;
            }
            if (waited >= timeoutNanos) {
                failBecause(late, "group " + name + ": rank " + late + " did not reach " + op.label
                        + " (collective #" + seq + ") within " + timeoutText, null);
                continue;
            }
            parked.set(rank, Thread.currentThread());
            // Re-check after announcing the park: an arrival after this point will unpark us.
            if (firstLate(phase) >= 0 && !failed()) {
                LockSupport.parkNanos(this, Math.min(MAX_PARK_NANOS, timeoutNanos - waited));
            }
            parked.set(rank, null);
        }
    }

    private int firstLate(long phase) {
        for (int r = 0; r < size; r++) {
            if (phases.get(r * PAD) < phase) {
                return r;
            }
        }
        return -1;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            failBecause(-1, "group " + name + " was closed", null);
            for (InProcessCommunicator c : communicators) {
                c.closeQuietly();
            }
            for (Call c : calls) {
                c.array = null;
            }
            onClose.run();
        }
    }
}
