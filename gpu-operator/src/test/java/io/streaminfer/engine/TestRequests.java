package io.streaminfer.engine;

import java.util.ArrayList;
import java.util.List;

/** Deterministic token-id prompts of slightly different lengths, for models without a tokenizer. */
final class TestRequests {
    private TestRequests() {}

    static List<GenerationRequest> tokenRequests(String prefix, int count, int promptLength, int vocab,
                                                 SamplingParams params) {
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] prompt = new int[promptLength + i % 3];
            prompt[0] = 1;
            for (int j = 1; j < prompt.length; j++) {
                prompt[j] = 3 + (int) ((i * 7919L + j * 104729L) % (vocab - 3));
            }
            out.add(new GenerationRequest(prefix + i, null, prompt, null, params));
        }
        return out;
    }
}
