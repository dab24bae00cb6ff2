package io.streaminfer.job.pipeline;

import org.apache.flink.runtime.throwable.ThrowableAnnotation;
import org.apache.flink.runtime.throwable.ThrowableType;

/**
 * A subtask could not set itself up for a reason every restart would meet again (a model or tokenizer the
 * TaskManager cannot read, a backend its machine lacks). Flink's failover treats it as non-recoverable
 * (found anywhere in the cause chain), so the job fails once, with this cause, instead of restarting until
 * the restart strategy gives up.
 */
@ThrowableAnnotation(ThrowableType.NonRecoverableError)
public final class SetupFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param what what could not be set up, e.g. "replica 0 cannot load --model /m.bin" */
    public SetupFailedException(String what, Throwable cause) {
        super(what + ": " + message(cause) + " (this fails the same way on every restart, so the job stops)", cause);
    }

    private static String message(Throwable cause) {
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
