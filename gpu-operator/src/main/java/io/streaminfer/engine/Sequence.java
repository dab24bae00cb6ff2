package io.streaminfer.engine;

import java.util.Arrays;

/**
 * The driver's state of one admitted request. Touched only by the driver thread, except
 * {@link #progress()}, which the replica calls under its lock.
 */
final class Sequence implements ScheduledSequence {
    final GenerationRequest request;
    final long submittedNanos;
    final RequestProgress resumeFrom;

    /** Tokens of prompt (+ target when scoring) (+ generated) in position order; grows as tokens come. */
    int[] tokens = new int[0];
    int length;
    int promptLength;
    /** Positions handed to steps: a step in flight computes [computed, scheduled). */
    int scheduled;
    /** Positions whose K/V are in the cache. */
    int computed;
    /** Whether its tokens (and sampler, stops) have been set up from the request. */
    boolean prepared;
    /** Scoring: feed positions [0, length - 1); generating: feed everything known. */
    boolean scoring;
    /** Its KV blocks while running; empty while waiting (also after a preemption). */
    final SequenceBlocks blocks = new SequenceBlocks();
    /** Times it gave back its KV to make room, and was then recomputed. */
    int preemptions;

    /** Generating only: how tokens are drawn, from what, and when they stop. Null until prepared, and for scoring. */
    TokenSampler sampler;
    RandomStream random;
    StopCriteria stop;

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

    @Override
    public SequenceBlocks blocks() {
        return blocks;
    }

    @Override
    public int[] tokens() {
        return tokens;
    }

    /** Its first position that wants logits: before it, nothing but K/V is computed, so a cache may give them. */
    @Override
    public int cacheLimit() {
        return scoring || request.params().logprobs() ? promptLength - 1 : feedLength() - 1;
    }

    @Override
    public void startAt(int position) {
        scheduled = position;
        computed = position;
    }

    @Override
    public boolean hasRowsInFlight() {
        return scheduled > computed;
    }

    @Override
    public void scheduledUpTo(int position) {
        scheduled = position;
    }

    /**
     * Back to waiting with its tokens, sampler and stop state: positions are recomputed when it returns,
     * and the logprobs (and score) they give are collected again, bitwise as the first time.
     */
    @Override
    public void preempted() {
        scheduled = 0;
        computed = 0;
        logprobCount = 0;
        score = 0;
        preemptions++;
    }

    @Override
    public int nextPosition() {
        return scheduled;
    }

    /** Positions to feed: for scoring, all but the last target token (nothing predicts past it). */
    @Override
    public int feedLength() {
        return scoring ? length - 1 : length;
    }

    @Override
    public int token(int position) {
        return tokens[position];
    }

    /**
     * Whether the row at {@code position} needs logits: every scored position; the last known token when
     * generating; and, when logprobs are asked for, the positions of tokens generated before a restore.
     */
    @Override
    public boolean wantsLogits(int position) {
        if (scoring || request.params().logprobs()) {
            return position >= promptLength - 1;
        }
        return position == length - 1;
    }

    /** Whether every position it feeds has been computed. */
    boolean fullyComputed() {
        return computed == feedLength();
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

    /** How far it got: where a restore would resume it. */
    RequestProgress progress() {
        if (sampler == null) {
            // Not started (or scoring): it would start from its resume point, or from scratch.
            return resumeFrom != null ? resumeFrom
                    : new RequestProgress(new int[0], RandomStream.initialState(request.params().seed()));
        }
        return new RequestProgress(generatedTokens(), random.state());
    }

    /** The completed result: the text is the stop criteria's (scoring: empty). */
    GenerationResult result(GenerationResult.FinishReason reason, long now) {
        String text = scoring ? "" : stop.text();
        float[] lp = logprobs == null ? null : Arrays.copyOf(logprobs, logprobCount);
        return new GenerationResult(request.id(), true, reason, null, text, Arrays.copyOf(tokens, promptLength),
                generatedTokens(), lp, scoring ? score : null, millisBetween(submittedNanos, firstComputedNanos),
                millisBetween(submittedNanos, scoring ? now : firstTokenNanos), millisBetween(submittedNanos, now));
    }

    static long millisBetween(long fromNanos, long toNanos) {
        return fromNanos == 0 || toNanos == 0 ? 0 : Math.max(0, (toNanos - fromNanos) / 1_000_000);
    }
}
