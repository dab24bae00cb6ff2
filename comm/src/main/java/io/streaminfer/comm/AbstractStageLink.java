package io.streaminfer.comm;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a stage link keeps whatever its backend: its name, capacity and timeout, its first failure (which
 * both ends rethrow from then on), whether it is closed, and how long each end waited.
 */
abstract class AbstractStageLink implements StageLink {
    /** Blamed in a {@link CommException}: 0 is the sending end, 1 the receiving end, -1 neither. */
    static final int SENDER = 0;
    static final int RECEIVER = 1;

    private record Failure(int end, String message, Throwable cause) {}

    protected final String name;
    protected final int capacity;
    protected final long timeoutNanos;
    protected final String timeoutText;
    private final Runnable onClose;
    private final AtomicReference<Failure> failure = new AtomicReference<>();
    private final AtomicLong sendWait = new AtomicLong();
    private final AtomicLong recvWait = new AtomicLong();
    private volatile boolean closed;

    AbstractStageLink(String name, int capacity, CommOptions options, Runnable onClose) {
        if (capacity < 0) {
            throw new IllegalArgumentException("link " + name + ": capacity must be >= 0, got " + capacity);
        }
        this.name = name;
        this.capacity = capacity;
        this.timeoutNanos = options.timeout().toNanos();
        this.timeoutText = options.timeout().toString();
        this.onClose = onClose;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int capacity() {
        return capacity;
    }

    @Override
    public final long sendWaitNanos() {
        return sendWait.get();
    }

    @Override
    public final long recvWaitNanos() {
        return recvWait.get();
    }

    final void waited(int end, long nanos) {
        (end == SENDER ? sendWait : recvWait).addAndGet(nanos);
    }

    /** Throws IllegalStateException after close, the recorded failure as a CommException, else nothing. */
    final void checkOpen(String op) {
        if (closed) {
            throw new IllegalStateException("link " + name + " " + op + " after close()");
        }
        throwIfFailed(op);
    }

    final void throwIfFailed(String op) {
        Failure f = failure.get();
        if (f != null) {
            throw new CommException(name, f.end(), f.message() + " (seen by " + op + ")", f.cause());
        }
    }

    final boolean failed() {
        return failure.get() != null;
    }

    /** Records the first failure; the backend wakes or aborts the ends in {@link #onFailure()}. */
    final void failBecause(int end, String message, Throwable cause) {
        if (failure.compareAndSet(null, new Failure(end, message, cause))) {
            onFailure();
        }
    }

    /** Wakes whatever end waits, so that it sees the failure at once. */
    abstract void onFailure();

    /** Frees the backend's resources; called once, from close(). */
    abstract void release();

    /** The length check both backends make: the receiver names both lengths. */
    final void lengthsAgree(int sent, int expected) {
        if (sent != expected) {
            failBecause(RECEIVER, "link " + name + ": the sender sent " + sent + " floats but the receiver expects "
                    + expected, null);
            throwIfFailed("recv");
        }
    }

    @Override
    public final void fail(Throwable cause) {
        failBecause(-1, "link " + name + " failed: " + cause, cause);
    }

    @Override
    public final void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        failBecause(-1, "link " + name + " was closed", null);
        release();
        onClose.run();
    }
}
