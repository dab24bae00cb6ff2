package io.streaminfer.engine;

import java.util.Arrays;
import java.util.Objects;

/**
 * One prompt for a replica: {@code prompt} text, {@code promptTokenIds}, or both. With a {@code target},
 * the replica scores the target's log-likelihood given the prompt instead of generating.
 *
 * <p>Token ids, when given, are what the replica runs: the validation step tokenizes each record once
 * ({@link RequestPreparation#tokenize}) and sends the ids along with the text, which records keep for
 * their readers (a duplicate id's dead letter re-encodes it). A request with text only is tokenized by the
 * replica, by the same {@link RequestPreparation}.
 *
 * @param id unique id; also the idempotency key
 * @param prompt text, or null when only token ids are given
 * @param promptTokenIds token ids (BOS included if wanted), or null to tokenize {@code prompt}
 * @param target text to score, or null to generate
 * @param params sampling parameters and stops
 * @param targetTokenIds the target's token ids as scoring splits prompt + target (with {@code promptTokenIds}
 *     the prompt's side of that split), or null to tokenize {@code target}
 */
public record GenerationRequest(String id, String prompt, int[] promptTokenIds, String target, SamplingParams params,
                                int[] targetTokenIds) {
    public GenerationRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(params, "params");
        if (prompt == null && promptTokenIds == null) {
            throw new IllegalArgumentException("request " + id + ": give prompt or prompt_token_ids");
        }
        if (targetTokenIds != null && (target == null || promptTokenIds == null)) {
            throw new IllegalArgumentException("request " + id + ": target token ids come with the target's text "
                    + "and the prompt's token ids");
        }
        promptTokenIds = promptTokenIds == null ? null : promptTokenIds.clone();
        targetTokenIds = targetTokenIds == null ? null : targetTokenIds.clone();
    }

    /** A request as records carry it: text or token ids, nothing tokenized yet. */
    public GenerationRequest(String id, String prompt, int[] promptTokenIds, String target, SamplingParams params) {
        this(id, prompt, promptTokenIds, target, params, null);
    }

    public static GenerationRequest ofText(String id, String prompt, SamplingParams params) {
        return new GenerationRequest(id, prompt, null, null, params);
    }

    /** This request carrying its tokens (prompt, and target when scoring), its texts kept. */
    public GenerationRequest withTokens(int[] promptTokens, int[] targetTokens) {
        return new GenerationRequest(id, prompt, promptTokens, target, params, target == null ? null : targetTokens);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationRequest r && id.equals(r.id) && Objects.equals(prompt, r.prompt)
                && Arrays.equals(promptTokenIds, r.promptTokenIds) && Objects.equals(target, r.target)
                && params.equals(r.params) && Arrays.equals(targetTokenIds, r.targetTokenIds);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, prompt, Arrays.hashCode(promptTokenIds), target, params, Arrays.hashCode(targetTokenIds));
    }
}
