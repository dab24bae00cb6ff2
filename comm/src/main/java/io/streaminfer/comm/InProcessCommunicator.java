package io.streaminfer.comm;

import io.streaminfer.comm.InProcessGroup.Call;
import io.streaminfer.comm.InProcessGroup.Op;

/**
 * One rank of an {@link InProcessGroup}. Every collective is: publish this rank's call, phase 1 (every
 * rank published; check that all ranks agree), work that reads peers' arrays directly, and one or two
 * more phases so that no rank returns (and overwrites its buffer) while a peer still reads it.
 *
 * <p>allReduce of a large buffer is a reduce-scatter then an all-gather: rank r sums slice r of every
 * rank's buffer into its own buffer, then copies the other ranks' finished slices. A small buffer is
 * summed whole by every rank, which saves a phase. Both sum ranks in {@link FixedOrder} tree order, so
 * every rank and every run gets bitwise the same result.
 */
final class InProcessCommunicator extends AbstractCommunicator<InProcessGroup> {
    /** Up to this many elements every rank sums the whole buffer (2 phases instead of 3). */
    static final int SMALL_ALL_REDUCE = 16 * 1024;

    private final TreeReducer reducer;
    private final float[][] peerArrays;   // (size) peers' published arrays for the current call
    private final int[] peerOffsets;      // (size) where each peer's operand starts
    private float[] smallResult;          // (SMALL_ALL_REDUCE) whole-buffer sums of a small allReduce
    private long phase;
    private long seq;
    private volatile boolean closed;

    InProcessCommunicator(InProcessGroup group, int rank) {
        super(group, rank);
        this.reducer = new TreeReducer(size);
        this.peerArrays = new float[size][];
        this.peerOffsets = new int[size];
    }

    private String where(Op op) {
        return where(op.label);
    }

    /**
     * Phase 1 of every collective: checks this rank's arguments, publishes its call, waits until every
     * rank has published, and checks that all agree. A bad argument fails the group (see reject).
     */
    private Call enter(Op op, Runnable argumentChecks, float[] array, int offset, int length, int root) {
        try {
            argumentChecks.run();
        } catch (IllegalArgumentException e) {
            throw reject(e);
        }
        Call mine = begin(op, array, offset, length, root);
        await(op);
        agree(mine);
        return mine;
    }

    /** Fails fast if closed or failed; otherwise publishes this rank's call. */
    private Call begin(Op op, float[] array, int offset, int length, int root) {
        if (closed) {
            throw new IllegalStateException(where(op) + " after close()");
        }
        group.throwIfFailed(rank);
        Call c = group.call(rank);
        c.op = op;
        c.seq = ++seq;
        c.array = array;
        c.offset = offset;
        c.length = length;
        c.root = root;
        return c;
    }

    /** A bad local argument: peers must not wait for a rank that will never arrive. */
    private IllegalArgumentException reject(IllegalArgumentException e) {
        group.failBecause(rank, "group " + group.name() + ": rank " + rank + " made an invalid call: "
                + e.getMessage(), e);
        return e;
    }

    private void await(Op op) {
        group.arriveAndAwait(rank, ++phase, op, seq);
    }

    /** After phase 1: every rank must be making the same call with the same sizes. */
    private void agree(Call mine) {
        for (int r = 0; r < size; r++) {
            Call other = group.call(r);
            if (other.op != mine.op || other.length != mine.length || other.root != mine.root) {
                Call first = group.call(0);
                int culprit = r == 0 ? rank : r;
                String msg = "group " + group.name() + ": ranks disagree on collective #" + seq + ": "
                        + first.describe(0) + " but " + group.call(culprit).describe(culprit);
                group.failBecause(culprit, msg, null);
                group.throwIfFailed(rank);
            }
        }
    }

    /** Collects every rank's published array and operand start (plus {@code extra}) after phase 1. */
    private void gatherPeers(long extra) {
        for (int r = 0; r < size; r++) {
            Call c = group.call(r);
            peerArrays[r] = c.array;
            peerOffsets[r] = (int) (c.offset + extra);
        }
    }

    private void end(Call mine) {
        mine.array = null;
        for (int r = 0; r < size; r++) {
            peerArrays[r] = null;
        }
    }

    @Override
    public void allReduce(float[] buf, int offset, int length) {
        Call mine = enter(Op.ALL_REDUCE, () -> Checks.range(where(Op.ALL_REDUCE), "buf", buf, offset, length),
                buf, offset, length, 0);
        gatherPeers(0);
        if (length <= SMALL_ALL_REDUCE) {
            // Every rank sums the whole buffer into private memory, waits until nobody reads its
            // buffer any more, then writes the result in place.
            float[] result = smallResult;
            if (result == null) {
                result = new float[SMALL_ALL_REDUCE];
                smallResult = result;
            }
            reducer.sum(peerArrays, peerOffsets, 0, length, result, 0);
            await(Op.ALL_REDUCE);
            System.arraycopy(result, 0, buf, offset, length);
        } else {
            // Reduce-scatter: this rank owns slice [lo, hi) and sums it into its own buffer; no peer
            // reads that slice of this buffer.
            int lo = sliceStart(length, rank);
            int hi = sliceStart(length, rank + 1);
            reducer.sum(peerArrays, peerOffsets, lo, hi - lo, buf, offset + lo);
            await(Op.ALL_REDUCE);
            // All-gather: copy every other rank's finished slice out of its buffer.
            for (int r = 0; r < size; r++) {
                if (r != rank) {
                    int s = sliceStart(length, r);
                    int e = sliceStart(length, r + 1);
                    System.arraycopy(peerArrays[r], peerOffsets[r] + s, buf, offset + s, e - s);
                }
            }
            await(Op.ALL_REDUCE);
        }
        end(mine);
    }

    private int sliceStart(int length, int r) {
        return (int) ((long) length * r / size);
    }

    /**
     * The buffers of allGather and reduceScatter, send checked first: the block side holds {@code count}
     * elements (allGather's send, reduceScatter's recv), the other {@code size * count}. The block may be
     * exactly this rank's block of the other buffer (in place; peers never read that block); any other
     * overlap is refused, because peers read send while this rank writes recv.
     */
    private void checkBlocks(Op op, float[] send, int sendOffset, float[] recv, int recvOffset, int count) {
        boolean sendIsBlock = op == Op.ALL_GATHER;
        long total = (long) count * size;
        long sendLength = sendIsBlock ? count : total;
        long recvLength = sendIsBlock ? total : count;
        String where = where(op);
        Checks.range(where, "send", send, sendOffset, sendLength);
        Checks.range(where, "recv", recv, recvOffset, recvLength);
        int blockOffset = sendIsBlock ? sendOffset : recvOffset;
        int wholeOffset = sendIsBlock ? recvOffset : sendOffset;
        boolean inPlace = send == recv && blockOffset == wholeOffset + (long) rank * count;
        if (!inPlace && Checks.overlap(send, sendOffset, sendLength, recv, recvOffset, recvLength)) {
            throw new IllegalArgumentException(where + (sendIsBlock ? ": send overlaps recv" : ": recv overlaps send")
                    + " without being this rank's block");
        }
    }

    @Override
    public void allGather(float[] send, int sendOffset, int count, float[] recv, int recvOffset) {
        Call mine = enter(Op.ALL_GATHER, () -> checkBlocks(Op.ALL_GATHER, send, sendOffset, recv, recvOffset, count),
                send, sendOffset, count, 0);
        gatherPeers(0);
        for (int r = 0; r < size; r++) {
            float[] src = peerArrays[r];
            int dst = recvOffset + r * count;
            if (!(src == recv && peerOffsets[r] == dst)) {
                System.arraycopy(src, peerOffsets[r], recv, dst, count);
            }
        }
        await(Op.ALL_GATHER);
        end(mine);
    }

    @Override
    public void reduceScatter(float[] send, int sendOffset, int count, float[] recv, int recvOffset) {
        Call mine = enter(Op.REDUCE_SCATTER,
                () -> checkBlocks(Op.REDUCE_SCATTER, send, sendOffset, recv, recvOffset, count),
                send, sendOffset, count, 0);
        gatherPeers((long) rank * count);
        reducer.sum(peerArrays, peerOffsets, 0, count, recv, recvOffset);
        await(Op.REDUCE_SCATTER);
        end(mine);
    }

    @Override
    public void broadcast(float[] buf, int offset, int length, int root) {
        Call mine = enter(Op.BROADCAST, () -> {
            String where = where(Op.BROADCAST);
            Checks.range(where, "buf", buf, offset, length);
            Checks.root(where, root, size);
        }, buf, offset, length, root);
        if (rank != root) {
            Call src = group.call(root);
            System.arraycopy(src.array, src.offset, buf, offset, length);
        }
        await(Op.BROADCAST);
        end(mine);
    }

    @Override
    public void barrier() {
        // Two phases, like every collective, so that the agreement check reads calls that are current.
        enter(Op.BARRIER, () -> { }, null, 0, 0, 0);
        await(Op.BARRIER);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            group.rankClosed(rank);
            closeQuietly();
        }
    }

    /** Drops buffers without blaming this rank; used when the whole group closes. */
    void closeQuietly() {
        closed = true;
        smallResult = null;
        reducer.release();
    }
}
