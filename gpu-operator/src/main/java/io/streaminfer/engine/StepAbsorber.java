package io.streaminfer.engine;

import io.streaminfer.compute.StepBatch;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * What happens with a step's logits: each row's sequence advances; scored positions add the target
 * token's log-probability; re-prefilled positions of a restored request give back the logprobs of the
 * tokens it generated before (bitwise as the first time: batch invariance); the last position of a
 * generating sequence samples its next token (on the {@link SamplingPool}), and its {@link StopCriteria}
 * say whether it ends. The sequences that end are handed back with their results; releasing their KV and
 * reporting them is the replica's.
 */
final class StepAbsorber {
    private final int vocabularySize;
    private final int contextLength;
    private final SamplingPool pool;

    /** A sequence that ended in this step, and its result. */
    record Ended(Sequence sequence, GenerationResult result) {}

    /**
     * @param ended in the order they ended: rows first, then the scored sequences, in admission order
     * @param promptRows rows of this step that computed prompt positions
     * @param generatedTokens tokens generated in this step (EOS not counted)
     */
    record Outcome(List<Ended> ended, int promptRows, int generatedTokens) {}

    /** The next token (and its logprob) of every sequence that samples this step, by logit row. */
    private record Sampled(int[] tokens, float[] logprobs, RuntimeException[] errors) {}

    StepAbsorber(int vocabularySize, int contextLength, SamplingPool pool) {
        this.vocabularySize = vocabularySize;
        this.contextLength = contextLength;
        this.pool = pool;
    }

    /**
     * @param running every running sequence, in admission order (scored ones finish in that order)
     * @param logits (logit rows of the step, vocabulary) as the group computed them
     */
    Outcome absorb(StepPlan<Sequence> step, float[] logits, Collection<Sequence> running, long now) {
        StepBatch batch = step.batch();
        Sampled sampled = sampleAll(step, logits);
        List<Ended> ended = new ArrayList<>();
        // A sequence can own several logit rows of a step (scored or re-prefilled positions); it ends once.
        java.util.Set<Sequence> failed = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        int logitRow = 0;
        int promptRows = 0;
        int generatedTokens = 0;
        for (int r = 0; r < batch.rows(); r++) {
            Sequence s = step.sequences().get(r);
            int position = batch.positions()[r];
            if (s.firstComputedNanos == 0) {
                s.firstComputedNanos = now;
            }
            s.computed = position + 1;
            if (position < s.promptLength) {
                promptRows++;
            }
            if (!batch.wantLogits()[r]) {
                continue;
            }
            int row = logitRow++;
            int offset = row * vocabularySize;
            if (failed.contains(s)) {
                continue;
            }
            int bad = firstNonFinite(logits, offset, vocabularySize);
            if (bad >= 0) {
                failed.add(s);
                // Overflow in this row's arithmetic: only this request ends (rows never mix, so the rest of
                // the batch keeps its exact logits), and the answer says what happened instead of sampling noise.
                ended.add(new Ended(s, GenerationResult.error(s.request.id(), nonFiniteMessage(logits[offset + bad],
                        bad, position, s.promptLength), Sequence.millisBetween(s.submittedNanos, now))));
                continue;
            }
            if (s.scoring) {
                float logprob = Sampler.logProbability(logits, offset, vocabularySize, s.tokens[position + 1]);
                s.addLogprob(logprob);
                s.score += logprob;
                continue;
            }
            if (position < s.length - 1) {
                s.addLogprob(Sampler.logProbability(logits, offset, vocabularySize, s.tokens[position + 1]));
                continue;
            }
            if (sampled.errors[row] != null) {
                ended.add(new Ended(s, GenerationResult.error(s.request.id(),
                        "sampling failed: " + sampled.errors[row].getMessage(),
                        Sequence.millisBetween(s.submittedNanos, now))));
                continue;
            }
            int token = sampled.tokens[row];
            if (s.firstTokenNanos == 0) {
                s.firstTokenNanos = now;
            }
            if (s.stop.isEos(token)) {
                ended.add(new Ended(s, s.result(GenerationResult.FinishReason.STOP, now)));
                continue;
            }
            if (s.request.params().logprobs()) {
                s.addLogprob(sampled.logprobs[row]);
            }
            s.addGenerated(token);
            generatedTokens++;
            // The new token has no position left to be fed at once the sequence outgrows the context.
            GenerationResult.FinishReason reason = s.stop.accept(token, s.length > contextLength);
            if (reason != null) {
                ended.add(new Ended(s, s.result(reason, now)));
            }
        }
        for (Sequence s : running) {
            if (s.scoring && s.fullyComputed() && !failed.contains(s)) {
                ended.add(new Ended(s, s.result(GenerationResult.FinishReason.STOP, now)));
            }
        }
        return new Outcome(ended, promptRows, generatedTokens);
    }

    /** Index within the row of its first NaN or infinite logit, or -1 when every logit is finite. */
    static int firstNonFinite(float[] logits, int offset, int length) {
        for (int i = 0; i < length; i++) {
            if (!Float.isFinite(logits[offset + i])) {
                return i;
            }
        }
        return -1;
    }

    private static String nonFiniteMessage(float value, int tokenId, int position, int promptLength) {
        String where = position < promptLength ? "prompt position " + position : "generated position " + position;
        return "the model produced a non-finite logit (" + value + " for token id " + tokenId + ") at " + where
                + ": its arithmetic overflowed on this request's tokens; the request is dropped, nothing was sampled";
    }

    /** Samples, on the pool, the next token of every sequence whose last known position this step computed. */
    private Sampled sampleAll(StepPlan<Sequence> step, float[] logits) {
        StepBatch batch = step.batch();
        int logitRows = batch.logitRows();
        Sampled out = new Sampled(new int[logitRows], new float[logitRows], new RuntimeException[logitRows]);
        int[] rows = new int[logitRows];          // logit row of each job
        Sequence[] sequences = new Sequence[logitRows];
        int jobs = 0;
        int logitRow = 0;
        for (int r = 0; r < batch.rows(); r++) {
            if (!batch.wantLogits()[r]) {
                continue;
            }
            Sequence s = step.sequences().get(r);
            if (!s.scoring && batch.positions()[r] == s.length - 1) {
                rows[jobs] = logitRow;
                sequences[jobs] = s;
                jobs++;
            }
            logitRow++;
        }
        pool.run(jobs, job -> {
            int row = rows[job];
            Sequence s = sequences[job];
            if (firstNonFinite(logits, row * vocabularySize, vocabularySize) >= 0) {
                return; // absorb ends it with an error; a sampler is never handed NaN
            }
            try {
                int token = s.sampler.sample(logits, row * vocabularySize, vocabularySize);
                out.tokens[row] = token;
                if (s.request.params().logprobs()) {
                    out.logprobs[row] = Sampler.logProbability(logits, row * vocabularySize, vocabularySize, token);
                }
            } catch (RuntimeException e) {
                out.errors[row] = e;
            }
        });
        return out;
    }
}
