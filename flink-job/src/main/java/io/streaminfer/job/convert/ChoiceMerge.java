package io.streaminfer.job.convert;

import io.streaminfer.job.codec.RecordOrigin;
import io.streaminfer.schemas.Choice;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The one completion of a prompt that asked for n > 1 samples, made of its n sample completions
 * ({@link Samples}): {@code choices} holds all n in index order; {@code text}, {@code token_ids},
 * {@code finish_reason}, {@code logprobs}, {@code replica} and {@code tp_size} are choice 0's;
 * {@code prompt_tokens} counts the prompt once and {@code completion_tokens} sums the choices' (as OpenAI's
 * usage does); {@code queued_ms} and {@code first_token_ms} are the earliest sample's, {@code total_ms} the
 * latest's. If any sample failed, the completion is an ERROR whose {@code error} names every failed sample
 * and its reason; its choices are still all there (a failed one with finish reason error and no tokens).
 */
public final class ChoiceMerge {
    private ChoiceMerge() {}

    /** @param samples the n sample completions, in any order, each with its sample metadata */
    public static CompletionRecord merge(List<CompletionRecord> samples) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples to merge");
        }
        int n = Samples.count(samples.get(0).getMetadata());
        CompletionRecord[] byIndex = new CompletionRecord[n];
        for (CompletionRecord s : samples) {
            int index = Samples.index(s.getMetadata());
            if (index < 0 || index >= n || byIndex[index] != null) {
                throw new IllegalArgumentException("sample " + index + " of n = " + n + " is out of range or repeated");
            }
            byIndex[index] = s;
        }
        List<Choice> choices = new ArrayList<>(n);
        List<String> failures = new ArrayList<>();
        int completionTokens = 0;
        long queued = Long.MAX_VALUE;
        long firstToken = Long.MAX_VALUE;
        long total = 0;
        for (int k = 0; k < n; k++) {
            CompletionRecord s = byIndex[k];
            if (s == null) {
                throw new IllegalArgumentException("sample " + k + " of n = " + n + " is missing");
            }
            choices.add(new Choice(k, s.getText(), s.getTokenIds(), s.getFinishReason(), s.getLogprobs()));
            if (s.getStatus() != CompletionStatus.OK) {
                failures.add("sample " + k + ": " + s.getError());
            }
            completionTokens += s.getCompletionTokens();
            queued = Math.min(queued, s.getQueuedMs());
            firstToken = Math.min(firstToken, s.getFirstTokenMs());
            total = Math.max(total, s.getTotalMs());
        }
        CompletionRecord first = byIndex[0];
        Map<String, String> metadata = Samples.strip(RecordOrigin.strip(first.getMetadata()));
        return CompletionRecord.newBuilder(first)
                .setId(Samples.originalId(first.getMetadata(), first.getId()))
                .setStatus(failures.isEmpty() ? CompletionStatus.OK : CompletionStatus.ERROR)
                .setError(failures.isEmpty() ? null : failures.size() + " of " + n + " samples failed: "
                        + String.join("; ", failures))
                .setPromptTokens(first.getPromptTokens())
                .setCompletionTokens(completionTokens)
                .setQueuedMs(queued)
                .setFirstTokenMs(firstToken)
                .setTotalMs(total)
                .setMetadata(Map.copyOf(metadata))
                .setChoices(choices)
                .build();
    }
}
