package io.streaminfer.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/** Reading tokenizer.json nodes with messages that say which field is missing or wrong. */
final class Json {
    private Json() {
    }

    static String type(JsonNode node, String what) {
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual()) {
            throw new IllegalArgumentException(what + " without a \"type\": " + abbreviate(node));
        }
        return type.asText();
    }

    static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("expected a string \"" + field + "\" in " + abbreviate(node));
        }
        return value.asText();
    }

    static JsonNode array(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isArray()) {
            throw new IllegalArgumentException("expected an array \"" + field + "\" in " + abbreviate(node));
        }
        return value;
    }

    /** A token named in a config: a plain string or an {@code {"__type": "AddedToken", "content": ...}} object. */
    static String tokenContent(JsonNode value) {
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isTextual()) {
            return value.asText();
        }
        if (value.isObject() && value.path("content").isTextual()) {
            return value.get("content").asText();
        }
        throw new IllegalArgumentException("expected a token string or AddedToken object, got " + abbreviate(value));
    }

    static String abbreviate(JsonNode node) {
        String s = String.valueOf(node);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
