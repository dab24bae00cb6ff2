package io.streaminfer.comm;

/**
 * The collectives of one rank in one tensor-parallel group.
 *
 * <p>Every call is collective: all ranks of the group must make the same call with the same sizes, in
 * the same order. Sums are always formed in the fixed order of {@link FixedOrder}, so the same inputs
 * give bitwise the same result on every rank, on every run, whatever the thread timing.
 *
 * <p>Buffers here are heap arrays (the CPU engine's activations). A communicator whose ranks own a GPU
 * also offers {@link #deviceCollectives()} over device memory.
 */
public interface Communicator extends AutoCloseable {

    /** This rank's index in the group, from 0 to {@code size() - 1}. */
    int rank();

    /** Number of ranks in the group. */
    int size();

    /** Unique name of the group, e.g. {@code tp:3}; errors name it. */
    String groupName();

    /** In place: {@code buf[offset, offset+length)} becomes the element-wise sum over all ranks. */
    void allReduce(float[] buf, int offset, int length);

    /**
     * Every rank contributes {@code count} elements from {@code send}; afterwards {@code recv} holds
     * {@code size() * count} elements, rank r's block at {@code recvOffset + r * count}.
     */
    void allGather(float[] send, int sendOffset, int count, float[] recv, int recvOffset);

    /**
     * {@code send} holds {@code size() * count} elements; afterwards {@code recv[recvOffset, +count)}
     * holds the element-wise sum over ranks of block {@code rank()}.
     */
    void reduceScatter(float[] send, int sendOffset, int count, float[] recv, int recvOffset);

    /** Copies {@code buf[offset, offset+length)} of rank {@code root} to every other rank. */
    void broadcast(float[] buf, int offset, int length, int root);

    /** Collectives over device memory, where this communicator has them (NCCL); empty for host-only ones. */
    default java.util.Optional<DeviceCollectives> deviceCollectives() {
        return java.util.Optional.empty();
    }

    /** Returns once every rank has entered the barrier. */
    void barrier();

    /** Leaves the group. Later calls on this rank throw; peers waiting on it fail with a clear error. */
    @Override
    void close();
}
