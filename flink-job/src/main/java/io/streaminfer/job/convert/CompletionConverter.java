package io.streaminfer.job.convert;

import io.streaminfer.engine.GenerationResult;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The one place where engine results become CompletionRecords. */
public final class CompletionConverter {
    private CompletionConverter() {}

    /**
     * @param key the prompt's routing key, or null
     * @param metadata the prompt's metadata, passed through (null means none)
     * @param model the loaded model's name
     * @param replica the DP replica (subtask index) that ran it
     * @param tpSize the replica's TP degree
     */
    public static CompletionRecord toCompletion(GenerationResult result, String key, Map<String, String> metadata,
                                                String model, int replica, int tpSize) {
        return CompletionRecord.newBuilder()
                .setId(result.id())
                .setKey(key)
                .setStatus(result.ok() ? CompletionStatus.OK : CompletionStatus.ERROR)
                .setFinishReason(result.finishReason().wireName())
                .setError(result.error())
                .setText(result.text() == null ? "" : result.text())
                .setTokenIds(boxed(result.tokenIds()))
                .setPromptTokens(result.promptTokenIds() == null ? 0 : result.promptTokenIds().length)
                .setCompletionTokens(result.tokenIds() == null ? 0 : result.tokenIds().length)
                .setLogprobs(result.logprobs() == null ? null : boxed(result.logprobs()))
                .setScore(result.score())
                .setModel(model)
                .setReplica(replica)
                .setTpSize(tpSize)
                .setQueuedMs(result.queuedMs())
                .setFirstTokenMs(result.firstTokenMs())
                .setTotalMs(result.totalMs())
                .setMetadata(metadata == null ? Map.of() : Map.copyOf(metadata))
                .build();
    }

    /** An ERROR completion for a prompt that never reached the engine (e.g. it failed validation). */
    public static CompletionRecord error(String id, String key, Map<String, String> metadata, String message,
                                         String model, int replica, int tpSize) {
        return toCompletion(GenerationResult.error(id, message, 0), key, metadata, model, replica, tpSize);
    }

    private static List<Integer> boxed(int[] values) {
        List<Integer> out = new ArrayList<>(values == null ? 0 : values.length);
        if (values != null) {
            for (int v : values) {
                out.add(v);
            }
        }
        return out;
    }

    private static List<Float> boxed(float[] values) {
        List<Float> out = new ArrayList<>(values.length);
        for (float v : values) {
            out.add(v);
        }
        return out;
    }
}
