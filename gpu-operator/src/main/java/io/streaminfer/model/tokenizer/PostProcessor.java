package io.streaminfer.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;

/**
 * tokenizer.json's {@code post_processor} for one sequence, as the ids it puts before and after the
 * encoded text when special tokens are asked for (BOS, CLS/SEP...). {@code ByteLevel} only adjusts
 * offsets, so it adds nothing; a {@code Sequence} wraps its steps' output in turn.
 *
 * @param prefix (n) ids before the text
 * @param suffix (m) ids after the text
 */
public record PostProcessor(int[] prefix, int[] suffix) {
    public static final PostProcessor NONE = new PostProcessor(new int[0], new int[0]);

    public PostProcessor {
        prefix = prefix.clone();
        suffix = suffix.clone();
    }

    @Override
    public int[] prefix() {
        return prefix.clone();
    }

    @Override
    public int[] suffix() {
        return suffix.clone();
    }

    /** {@code ids} wrapped in the template. */
    public int[] apply(int[] ids) {
        if (prefix.length == 0 && suffix.length == 0) {
            return ids;
        }
        int[] out = new int[prefix.length + ids.length + suffix.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(ids, 0, out, prefix.length, ids.length);
        System.arraycopy(suffix, 0, out, prefix.length + ids.length, suffix.length);
        return out;
    }

    /** @throws IllegalArgumentException naming an unsupported post-processor type */
    public static PostProcessor fromJson(JsonNode node) {
        if (node == null || node.isNull()) {
            return NONE;
        }
        String type = Json.type(node, "post_processor");
        return switch (type) {
            case "ByteLevel" -> NONE;
            case "TemplateProcessing" -> template(node);
            case "BertProcessing", "RobertaProcessing" -> new PostProcessor(new int[] {pairId(node, "cls")},
                    new int[] {pairId(node, "sep")});
            case "Sequence" -> {
                PostProcessor out = NONE;
                for (JsonNode step : Json.array(node, "processors")) {
                    PostProcessor inner = fromJson(step);
                    out = new PostProcessor(concat(inner.prefix, out.prefix), concat(out.suffix, inner.suffix));
                }
                yield out;
            }
            default -> throw new IllegalArgumentException("unsupported post_processor type '" + type
                    + "' (supported: TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence)");
        };
    }

    private static PostProcessor template(JsonNode node) {
        JsonNode specials = node.path("special_tokens");
        int[] prefix = new int[0];
        int[] suffix = new int[0];
        boolean seenSequence = false;
        for (JsonNode item : Json.array(node, "single")) {
            if (item.has("Sequence")) {
                String which = item.get("Sequence").path("id").asText();
                if (!which.equals("A") || seenSequence) {
                    throw new IllegalArgumentException("TemplateProcessing single template uses sequence " + which);
                }
                seenSequence = true;
            } else if (item.has("SpecialToken")) {
                String name = item.get("SpecialToken").path("id").asText();
                JsonNode ids = specials.path(name).path("ids");
                if (!ids.isArray()) {
                    throw new IllegalArgumentException("TemplateProcessing names special token '" + name
                            + "' without ids in special_tokens");
                }
                int[] values = new int[ids.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = ids.get(i).asInt();
                }
                if (seenSequence) {
                    suffix = concat(suffix, values);
                } else {
                    prefix = concat(prefix, values);
                }
            } else {
                throw new IllegalArgumentException("TemplateProcessing item neither Sequence nor SpecialToken: " + item);
            }
        }
        return new PostProcessor(prefix, suffix);
    }

    private static int pairId(JsonNode node, String field) {
        JsonNode pair = node.path(field);
        if (!pair.isArray() || pair.size() != 2) {
            throw new IllegalArgumentException("post_processor " + field + " is not [token, id]: " + pair);
        }
        return pair.get(1).asInt();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PostProcessor p && Arrays.equals(prefix, p.prefix) && Arrays.equals(suffix, p.suffix);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(prefix) + Arrays.hashCode(suffix);
    }

    @Override
    public String toString() {
        return "PostProcessor[prefix=" + Arrays.toString(prefix) + ", suffix=" + Arrays.toString(suffix) + "]";
    }
}
