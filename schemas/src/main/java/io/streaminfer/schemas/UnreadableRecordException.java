package io.streaminfer.schemas;

/** Bytes that are not a record of the expected type; the message says why, in words for the producer's author. */
public final class UnreadableRecordException extends Exception {
    private static final long serialVersionUID = 1L;

    public UnreadableRecordException(String message) {
        super(message);
    }

    public UnreadableRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
