package io.streaminfer.engine;

/**
 * The outcome of one request: a completion, a score, or an error.
 *
 * @param id request id
 * @param ok false when the request failed (then {@code error} says why)
 * @param finishReason {@code stop}, {@code length} or {@code error}
 * @param error message, or null
 * @param text completion text (generated part only), or "" for scoring and errors
 * @param promptTokenIds the prompt's token ids (empty when it could not be tokenized)
 * @param tokenIds generated token ids
 * @param logprobs per generated token (when asked), or per target token when scoring; else null
 * @param score sum of the target's log-probabilities when scoring, else null
 * @param queuedMs time from submission to the first step that computed it
 * @param firstTokenMs time from submission to the first generated token (or the score)
 * @param totalMs time from submission to completion
 */
public record GenerationResult(String id, boolean ok, FinishReason finishReason, String error, String text,
                               int[] promptTokenIds, int[] tokenIds, float[] logprobs, Double score,
                               long queuedMs, long firstTokenMs, long totalMs) {

    /** Why a request ended. */
    public enum FinishReason {
        STOP, LENGTH, ERROR;

        /** The wire name used in records: stop, length, error. */
        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static GenerationResult error(String id, String message, long totalMs) {
        return new GenerationResult(id, false, FinishReason.ERROR, message, "", new int[0], new int[0], null, null,
                0, 0, totalMs);
    }
}
