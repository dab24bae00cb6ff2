package io.streaminfer.comm;

/** A group of one rank: every collective is a local copy or nothing at all. */
final class SoloGroup implements CommGroup {
    private final SoloCommunicator communicator; // also keeps the group's name
    private final Runnable onClose;
    private boolean closed;

    SoloGroup(String name, Runnable onClose) {
        this.communicator = new SoloCommunicator(name);
        this.onClose = onClose;
    }

    @Override
    public String name() {
        return communicator.groupName();
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public Communicator communicator(int rank) {
        if (rank != 0) {
            throw new IllegalArgumentException("group " + name() + " has one rank; no rank " + rank);
        }
        return communicator;
    }

    @Override
    public void fail(int rank, Throwable cause) {
        communicator.close();
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            communicator.close();
            onClose.run();
        }
    }

    /** The zero-cost path: no barriers, no shared state. */
    static final class SoloCommunicator implements Communicator {
        private final String groupName;
        private volatile boolean closed;

        SoloCommunicator(String groupName) {
            this.groupName = groupName;
        }

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int size() {
            return 1;
        }

        @Override
        public String groupName() {
            return groupName;
        }

        private String where(String op) {
            if (closed) {
                throw new IllegalStateException(op + " on rank 0 of group " + groupName + " after close()");
            }
            return groupName + " rank 0 " + op;
        }

        @Override
        public void allReduce(float[] buf, int offset, int length) {
            Checks.range(where("allReduce"), "buf", buf, offset, length);
        }

        @Override
        public void allGather(float[] send, int sendOffset, int count, float[] recv, int recvOffset) {
            copyTheOneBlock("allGather", send, sendOffset, count, recv, recvOffset);
        }

        @Override
        public void reduceScatter(float[] send, int sendOffset, int count, float[] recv, int recvOffset) {
            copyTheOneBlock("reduceScatter", send, sendOffset, count, recv, recvOffset);
        }

        /** One rank: gathering its block and scattering the sum of its one block both copy send to recv. */
        private void copyTheOneBlock(String op, float[] send, int sendOffset, int count, float[] recv, int recvOffset) {
            String where = where(op);
            Checks.range(where, "send", send, sendOffset, count);
            Checks.range(where, "recv", recv, recvOffset, count);
            System.arraycopy(send, sendOffset, recv, recvOffset, count);
        }

        @Override
        public void broadcast(float[] buf, int offset, int length, int root) {
            String where = where("broadcast");
            Checks.range(where, "buf", buf, offset, length);
            Checks.root(where, root, 1);
        }

        @Override
        public void barrier() {
            where("barrier");
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
