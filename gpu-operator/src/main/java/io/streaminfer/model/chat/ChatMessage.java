package io.streaminfer.model.chat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One message of a conversation: a role ("system", "user", "assistant", ... the template decides which it takes)
 * and its content, either a string or, as newer chat APIs send it, a list of parts. Only text parts can be
 * rendered; a template gets them as {@code [{"type": "text", "text": ...}]} when it reads lists of parts.
 *
 * @param role  the speaker
 * @param text  the content as a string, or {@code null} when it comes as parts
 * @param parts the content as parts, or {@code null} when it is a string
 */
public record ChatMessage(String role, String text, List<Part> parts) {

    /** One part of a content list: its {@code type} ("text", "image_url", ...) and, for text, the text. */
    public record Part(String type, String text) {
        public Part {
            Objects.requireNonNull(type, "a content part needs a type");
        }

        public static Part text(String text) {
            return new Part("text", Objects.requireNonNull(text, "a text part needs its text"));
        }
    }

    public ChatMessage {
        if (role == null || role.isEmpty()) {
            throw new IllegalArgumentException("a chat message needs a role");
        }
        if ((text == null) == (parts == null)) {
            throw new IllegalArgumentException("a chat message needs its content, as a string or as a list of parts"
                    + " (message role: " + role + ")");
        }
        parts = parts == null ? null : List.copyOf(parts);
    }

    public static ChatMessage of(String role, String content) {
        return new ChatMessage(role, content, null);
    }

    public static ChatMessage system(String content) {
        return of("system", content);
    }

    public static ChatMessage user(String content) {
        return of("user", content);
    }

    public static ChatMessage assistant(String content) {
        return of("assistant", content);
    }

    public static ChatMessage ofParts(String role, List<Part> parts) {
        return new ChatMessage(role, null, parts);
    }

    /** The message as the template's {@code messages[i]}: {@code {"role": ..., "content": ...}}. */
    Map<String, Object> toTemplateValue() {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("role", role);
        if (text != null) {
            message.put("content", text);
        } else {
            message.put("content", parts.stream().map(part -> {
                Map<String, Object> value = new LinkedHashMap<>();
                value.put("type", part.type());
                value.put("text", part.text());
                return value;
            }).toList());
        }
        return message;
    }
}
