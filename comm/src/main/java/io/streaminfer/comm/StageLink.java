package io.streaminfer.comm;

import java.util.Optional;

/**
 * One direction of point-to-point transfer between two pipeline stages: rank r of stage s sends a step's
 * activations (rows x width floats, the residual stream) to rank r of stage s+1. Formed by
 * {@link GroupCoordinator#formLink}; named {@code pp:<replica>/pp<s>-tp<r>>pp<s+1>-tp<r>}.
 *
 * <p>Exactly one thread sends and exactly one receives. Messages arrive whole and in the order they were
 * sent. A link with {@link #capacity()} c lets the sender run up to c messages ahead of the receiver, so a
 * stage goes on computing its next micro-batch while the last one is on its way (communication overlapped
 * with computation); capacity 0 is a rendezvous: {@link #send} returns once the receiver has copied.
 *
 * <p>Failure: a wait longer than the link's timeout, a length that differs between the two ends,
 * {@link #fail} or {@link #close} fail the link; both ends then get a {@link CommException} naming it.
 */
public interface StageLink extends AutoCloseable {

    /** Unique name, {@code pp:<replica>/pp0-tp1>pp1-tp1}; errors name it. */
    String name();

    /** Messages the sender may run ahead of the receiver; 0 is a rendezvous. */
    int capacity();

    /**
     * Sends {@code buf[offset, offset+length)}. Returns once the data is copied out of {@code buf} (the
     * caller may overwrite it) and, at capacity 0, once the receiver has it.
     */
    void send(float[] buf, int offset, int length);

    /** Receives the next message into {@code buf[offset, offset+length)}; its length must be {@code length}. */
    void recv(float[] buf, int offset, int length);

    /** Transfers between device buffers, where the link has them (NCCL); empty for host-only links. */
    default Optional<DeviceStageLink> deviceLink() {
        return Optional.empty();
    }

    /** Nanoseconds the sender spent waiting for room (or, at capacity 0, for the receiver). */
    long sendWaitNanos();

    /** Nanoseconds the receiver spent waiting for a message. */
    long recvWaitNanos();

    /** Fails the link: both ends, waiting now or calling later, get a CommException with this cause. */
    void fail(Throwable cause);

    /**
     * Closes both ends, from any thread: a call under way (waiting or not) fails at once with a CommException
     * saying the link was closed, later calls throw IllegalStateException, and memory a transfer still uses
     * is freed only once that transfer has left. Closing again, or after a failure, is safe; again is a no-op.
     */
    @Override
    void close();
}
