package io.streaminfer.operator;

import io.streaminfer.engine.GenerationRequest;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the inference operator consumes: a request plus the fields it passes through untouched to the
 * output (routing key and metadata). Serialized by {@link InferenceTypes#input()}, never by Kryo.
 *
 * @param request the request for the replica
 * @param key routing key of the record, or null
 * @param metadata opaque strings copied to the output (never null; empty when absent)
 */
public record InferenceInput(GenerationRequest request, String key, Map<String, String> metadata) {

    public InferenceInput {
        Objects.requireNonNull(request, "request");
        metadata = copyMetadata(request.id(), metadata);
    }

    public static InferenceInput of(GenerationRequest request) {
        return new InferenceInput(request, null, Map.of());
    }

    public String id() {
        return request.id();
    }

    static Map<String, String> copyMetadata(String id, Map<String, String> metadata) {
        if (metadata == null || metadata.isEmpty()) {
            return Map.of();
        }
        LinkedHashMap<String, String> copy = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("request " + id + ": metadata keys and values must not be null, got "
                        + e.getKey() + "=" + e.getValue());
            }
            copy.put(e.getKey(), e.getValue());
        }
        return Collections.unmodifiableMap(copy);
    }
}
