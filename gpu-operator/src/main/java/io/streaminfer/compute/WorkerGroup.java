package io.streaminfer.compute;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A backend's own threads: {@code parts - 1} daemon workers plus the calling thread, which runs part 0.
 * Workers spin briefly after a task (matmuls of one forward pass come in quick succession) and then park,
 * so an idle replica does not hold a core.
 *
 * <p>Used by one caller thread at a time, as {@link MatmulKernel} is.
 */
final class WorkerGroup implements AutoCloseable {

    /** One slice of a task; {@code part} in [0, parts). */
    interface Task {
        void run(int part, int parts);
    }

    private static final long SPIN_NANOS = 50_000;
    private static final AtomicInteger GROUP_IDS = new AtomicInteger();

    private final int parts;
    private final Thread[] workers;
    private volatile Task task;
    private volatile int generation;
    private volatile boolean closed;
    private final AtomicInteger remaining = new AtomicInteger();
    private volatile Thread waiter;
    private volatile boolean waiterParked;
    private final WorkerState[] states;
    private volatile Throwable failure;

    private static final class WorkerState {
        volatile boolean parked;
    }

    WorkerGroup(String name, int parts) {
        if (parts < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + parts);
        }
        this.parts = parts;
        this.workers = new Thread[parts - 1];
        this.states = new WorkerState[parts - 1];
        int id = GROUP_IDS.incrementAndGet();
        for (int i = 0; i < workers.length; i++) {
            int part = i + 1;
            states[i] = new WorkerState();
            WorkerState state = states[i];
            workers[i] = new Thread(() -> workLoop(part, state), "streaminfer-" + name + "-" + id + "-w" + part);
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    int parts() {
        return parts;
    }

    /** Throws once {@link #close()} has run: the owning backend is closed. */
    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("backend is closed");
        }
    }

    /** Runs {@code task} on all parts and returns when every part is done; rethrows a worker's failure. */
    void run(Task task) {
        if (closed) {
            throw new IllegalStateException("backend is closed");
        }
        if (parts == 1) {
            task.run(0, 1);
            return;
        }
        this.failure = null;
        this.task = task;
        this.waiter = Thread.currentThread();
        remaining.set(parts - 1);
        generation++; // publishes task (volatile write after the plain setup)
        for (int i = 0; i < workers.length; i++) {
            if (states[i].parked) {
                LockSupport.unpark(workers[i]);
            }
        }
        Throwable own = null;
        try {
            task.run(0, parts);
        } catch (Throwable t) {
            own = t;
        }
        awaitWorkers();
        this.task = null;
        Throwable workerFailure = failure;
        if (own != null) {
            rethrow(own);
        }
        if (workerFailure != null) {
            throw new IllegalStateException("a compute worker failed: " + workerFailure, workerFailure);
        }
    }

    private void awaitWorkers() {
        long deadline = System.nanoTime() + SPIN_NANOS;
        while (remaining.get() != 0) {
            if (System.nanoTime() < deadline) {
                Thread.onSpinWait();
            } else {
                waiterParked = true;
                if (remaining.get() != 0) {
                    LockSupport.park(this);
                }
                waiterParked = false;
            }
        }
    }

    private void workLoop(int part, WorkerState state) {
        int seen = 0;
        while (true) {
            long deadline = System.nanoTime() + SPIN_NANOS;
            while (generation == seen && !closed) {
                if (System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                } else {
                    state.parked = true;
                    if (generation == seen && !closed) {
                        LockSupport.park(this);
                    }
                    state.parked = false;
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            try {
                task.run(part, parts);
            } catch (Throwable t) {
                failure = t;
            }
            if (remaining.decrementAndGet() == 0 && waiterParked) {
                LockSupport.unpark(waiter);
            }
        }
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException) {
            throw (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        throw new IllegalStateException(t);
    }

    @Override
    public void close() {
        closed = true;
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
        for (Thread worker : workers) {
            try {
                worker.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
