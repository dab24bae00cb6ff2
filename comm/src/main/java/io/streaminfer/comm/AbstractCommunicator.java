package io.streaminfer.comm;

/**
 * What one rank of a group of several knows about itself, whatever the backend: its group, its rank and
 * the group's size. Error messages say where they happened with {@link #where(String)}.
 */
abstract class AbstractCommunicator<G extends CommGroup> implements Communicator {
    protected final G group;
    protected final int rank;
    protected final int size;

    AbstractCommunicator(G group, int rank) {
        this.group = group;
        this.rank = rank;
        this.size = group.size();
    }

    @Override
    public final int rank() {
        return rank;
    }

    @Override
    public final int size() {
        return size;
    }

    @Override
    public final String groupName() {
        return group.name();
    }

    /** Where a call of this rank is, for error messages: {@code group tp:0 rank 1 allReduce}. */
    final String where(String op) {
        return "group " + group.name() + " rank " + rank + " " + op;
    }
}
