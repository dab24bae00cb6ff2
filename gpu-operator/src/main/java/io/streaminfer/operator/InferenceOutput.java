package io.streaminfer.operator;

import io.streaminfer.engine.GenerationResult;

import java.util.Map;
import java.util.Objects;

/**
 * What the inference operator emits: the result of one request, the passthrough fields of its input,
 * and where it ran. Serialized by {@link InferenceTypes#output()}.
 *
 * @param key routing key of the input record, or null
 * @param metadata metadata of the input record (never null)
 * @param result the replica's result (OK or ERROR)
 * @param replicaIndex index of the subtask (data-parallel replica) that produced it
 * @param tensorParallelSize TP degree of that replica
 * @param modelName model name reported by the replica
 */
public record InferenceOutput(String key, Map<String, String> metadata, GenerationResult result, int replicaIndex,
                              int tensorParallelSize, String modelName) {

    public InferenceOutput {
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(modelName, "modelName");
        metadata = InferenceInput.copyMetadata(result.id(), metadata);
    }

    public String id() {
        return result.id();
    }
}
