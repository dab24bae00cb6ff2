package io.streaminfer.job.codec;

/** An input that cannot be decoded; the message says why and becomes a dead letter's reason. */
public final class InvalidRecordException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidRecordException(String message) {
        super(message);
    }

    public InvalidRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
