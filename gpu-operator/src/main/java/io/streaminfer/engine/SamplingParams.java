package io.streaminfer.engine;

import java.util.List;

/**
 * How one request picks its tokens and when it stops. Checked on construction; the message names the
 * parameter, so it can go straight into an error completion or a dead letter.
 *
 * @param temperature 0 means greedy (argmax, ties to the lowest id)
 * @param topP nucleus mass in (0, 1]; 1 disables it
 * @param topK keep the k most likely tokens; 0 disables it
 * @param maxTokens most tokens to generate, at least 1
 * @param seed seed of the request's own random stream
 * @param stop strings that end the completion (not included in the text)
 * @param logprobs whether to return the log-probability of each generated token
 */
public record SamplingParams(float temperature, float topP, int topK, int maxTokens, long seed,
                             List<String> stop, boolean logprobs) {

    public SamplingParams {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be within (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max_tokens must be >= 1, got " + maxTokens);
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0f, 1f, 0, maxTokens, 0L, List.of(), false);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }
}
