package io.streaminfer.operator;

/** The replica of a subtask broke; thrown on the mailbox thread so the task fails with the cause. */
public final class ReplicaFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    public ReplicaFailedException(int subtaskIndex, Throwable cause) {
        super("inference replica of subtask " + subtaskIndex + " failed: " + cause, cause);
    }
}
