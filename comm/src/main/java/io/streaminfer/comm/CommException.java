package io.streaminfer.comm;

/**
 * A collective could not complete: a peer failed, timed out, closed, or the ranks disagreed on the
 * call. The message names the group and the rank at fault.
 */
public class CommException extends RuntimeException {
    private final String groupName;
    private final int failedRank;

    public CommException(String groupName, int failedRank, String message, Throwable cause) {
        super(message, cause);
        this.groupName = groupName;
        this.failedRank = failedRank;
    }

    /** Name of the group, e.g. {@code tp:0}. */
    public String groupName() {
        return groupName;
    }

    /** The rank that failed first, or -1 when no single rank is to blame. */
    public int failedRank() {
        return failedRank;
    }
}
