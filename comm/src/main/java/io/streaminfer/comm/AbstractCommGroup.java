package io.streaminfer.comm;

import java.util.concurrent.atomic.AtomicReference;

/**
 * What a group of several ranks keeps whatever its backend: its name, its size and its first failure,
 * which every later call of every rank rethrows as a {@link CommException}. The backend decides what the
 * first failure sets off ({@link #failBecause}): waking parked ranks, aborting NCCL communicators.
 */
abstract class AbstractCommGroup implements CommGroup {
    /** The first failure of a group; {@code rank} is the rank blamed, -1 when none is (the group closed). */
    record Failure(int rank, String message, Throwable cause) {}

    protected final String name;
    protected final int size;
    private final AtomicReference<Failure> failure = new AtomicReference<>();

    AbstractCommGroup(String name, int size) {
        this.name = name;
        this.size = size;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int size() {
        return size;
    }

    /** Throws unless {@code rank} is a rank of this group. */
    final void checkRank(int rank) {
        if (rank < 0 || rank >= size) {
            throw new IllegalArgumentException("group " + name + " has ranks 0.." + (size - 1) + "; no rank " + rank);
        }
    }

    /** Fails the group blaming {@code rank}, unless it failed already; every rank then sees the failure. */
    abstract void failBecause(int rank, String message, Throwable cause);

    /** Records the failure unless one is recorded already; true when this one is the first. */
    final boolean recordFailure(int rank, String message, Throwable cause) {
        return failure.compareAndSet(null, new Failure(rank, message, cause));
    }

    final boolean failed() {
        return failure.get() != null;
    }

    @Override
    public final void fail(int rank, Throwable cause) {
        failBecause(rank, "group " + name + ": rank " + rank + " failed: " + cause, cause);
    }

    /** Called by a rank's close(): peers still in, or later entering, a collective fail naming it. */
    final void rankClosed(int rank) {
        failBecause(rank, "group " + name + ": rank " + rank + " closed its communicator", null);
    }

    /** Throws the group's failure, if any, as seen from {@code rank}. */
    final void throwIfFailed(int rank) {
        Failure f = failure.get();
        if (f != null) {
            throw new CommException(name, f.rank(), f.message() + " (seen by rank " + rank + ")", f.cause());
        }
    }
}
