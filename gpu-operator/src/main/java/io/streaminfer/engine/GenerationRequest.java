package io.streaminfer.engine;

import java.util.Arrays;
import java.util.Objects;

/**
 * One prompt for a replica. Either {@code prompt} (text, tokenized by the replica with BOS) or
 * {@code promptTokenIds} is given. With a {@code target}, the replica scores the target's
 * log-likelihood given the prompt instead of generating.
 *
 * @param id unique id; also the idempotency key
 * @param prompt text, or null when token ids are given
 * @param promptTokenIds token ids (BOS included if wanted), or null when text is given
 * @param target text to score, or null to generate
 * @param params sampling parameters and stops
 */
public record GenerationRequest(String id, String prompt, int[] promptTokenIds, String target, SamplingParams params) {
    public GenerationRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(params, "params");
        if ((prompt == null) == (promptTokenIds == null)) {
            throw new IllegalArgumentException("request " + id + ": give exactly one of prompt and prompt_token_ids");
        }
        promptTokenIds = promptTokenIds == null ? null : promptTokenIds.clone();
    }

    public static GenerationRequest ofText(String id, String prompt, SamplingParams params) {
        return new GenerationRequest(id, prompt, null, null, params);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationRequest r && id.equals(r.id) && Objects.equals(prompt, r.prompt)
                && Arrays.equals(promptTokenIds, r.promptTokenIds) && Objects.equals(target, r.target)
                && params.equals(r.params);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, prompt, Arrays.hashCode(promptTokenIds), target, params);
    }
}
