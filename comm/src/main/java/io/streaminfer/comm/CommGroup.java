package io.streaminfer.comm;

/**
 * One tensor-parallel group: {@link #size()} ranks, each with its own {@link Communicator}. Formed by
 * {@link GroupCoordinator#form(String, int)}.
 */
public interface CommGroup extends AutoCloseable {

    /** Unique name, {@code tp:<replica>}. */
    String name();

    int size();

    /** The communicator of {@code rank}; hand it to that rank's thread. */
    Communicator communicator(int rank);

    /**
     * Fails the group on behalf of {@code rank} (e.g. its thread threw outside a collective): every peer
     * blocked in, or later entering, a collective gets a {@link CommException} naming that rank.
     */
    void fail(int rank, Throwable cause);

    /** Closes every rank's communicator, wakes any waiting rank and frees the group's buffers. */
    @Override
    void close();
}
