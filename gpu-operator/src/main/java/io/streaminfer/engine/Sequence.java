package io.streaminfer.engine;

import java.util.Arrays;

/**
 * The driver's state of one admitted request. Touched only by the driver thread, except
 * {@link #progress()}, which the replica calls under its lock.
 */
final class Sequence {
    final GenerationRequest request;
    final long submittedNanos;
    final RequestProgress resumeFrom;

    /** Tokens of prompt (+ target when scoring) (+ generated) in position order; grows as tokens come. */
    int[] tokens = new int[0];
    int length;
    int promptLength;
    /** Positions whose K/V are in the cache. */
    int computed;
    /** Scoring: feed positions [0, feedLength); generating: feed everything known. */
    boolean scoring;
    int slot = -1;

    TokenSampler sampler;
    RandomStream random;
    int[] generated = new int[16];
    int generatedCount;
    float[] logprobs;          // generated tokens' (when asked) or the target's log-probabilities
    int logprobCount;
    double score;

    long firstComputedNanos;
    long firstTokenNanos;

    Sequence(GenerationRequest request, RequestProgress resumeFrom, long submittedNanos) {
        this.request = request;
        this.resumeFrom = resumeFrom;
        this.submittedNanos = submittedNanos;
    }

    /** Positions to feed: for scoring, all but the last target token (nothing predicts past it). */
    int feedLength() {
        return scoring ? length - 1 : length;
    }

    int pending() {
        return feedLength() - computed;
    }

    /**
     * Whether the row at {@code position} needs logits: every scored position; the last known token when
     * generating; and, when logprobs are asked for, the positions of tokens generated before a restore.
     */
    boolean wantsLogits(int position) {
        if (scoring || request.params().logprobs()) {
            return position >= promptLength - 1;
        }
        return position == length - 1;
    }

    void append(int token) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.max(16, tokens.length * 2));
        }
        tokens[length++] = token;
    }

    void addGenerated(int token) {
        if (generatedCount == generated.length) {
            generated = Arrays.copyOf(generated, generated.length * 2);
        }
        generated[generatedCount++] = token;
        append(token);
    }

    void addLogprob(float logprob) {
        if (logprobs == null) {
            logprobs = new float[16];
        } else if (logprobCount == logprobs.length) {
            logprobs = Arrays.copyOf(logprobs, logprobs.length * 2);
        }
        logprobs[logprobCount++] = logprob;
    }

    int[] generatedTokens() {
        return Arrays.copyOf(generated, generatedCount);
    }

    RequestProgress progress() {
        return new RequestProgress(generatedTokens(), random == null ? 0L : random.state());
    }

    static long millisBetween(long fromNanos, long toNanos) {
        return fromNanos == 0 || toNanos == 0 ? 0 : Math.max(0, (toNanos - fromNanos) / 1_000_000);
    }
}
