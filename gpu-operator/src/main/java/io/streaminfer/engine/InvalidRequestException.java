package io.streaminfer.engine;

/**
 * A request that cannot run, with the reason as the user reads it (a dead letter's reason, an ERROR
 * completion's error, the CLI's one line): it names the field or the limit, never a library's internals.
 */
public final class InvalidRequestException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidRequestException(String reason) {
        super(reason);
    }
}
