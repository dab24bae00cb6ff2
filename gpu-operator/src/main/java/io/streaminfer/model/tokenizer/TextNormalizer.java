package io.streaminfer.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A tokenizer.json {@code normalizer}: text before pre-tokenization. Immutable. */
@FunctionalInterface
public interface TextNormalizer {

    String normalize(String text);

    /** The identity, for {@code "normalizer": null}. */
    TextNormalizer NONE = text -> text;

    /** @throws IllegalArgumentException naming an unsupported normalizer type */
    static TextNormalizer fromJson(JsonNode node) {
        if (node == null || node.isNull()) {
            return NONE;
        }
        String type = Json.type(node, "normalizer");
        return switch (type) {
            case "Sequence" -> {
                List<TextNormalizer> steps = new ArrayList<>();
                for (JsonNode step : Json.array(node, "normalizers")) {
                    steps.add(fromJson(step));
                }
                yield text -> {
                    String out = text;
                    for (TextNormalizer step : steps) {
                        out = step.normalize(out);
                    }
                    return out;
                };
            }
            case "NFC" -> text -> Normalizer.normalize(text, Normalizer.Form.NFC);
            case "NFD" -> text -> Normalizer.normalize(text, Normalizer.Form.NFD);
            case "NFKC" -> text -> Normalizer.normalize(text, Normalizer.Form.NFKC);
            case "NFKD" -> text -> Normalizer.normalize(text, Normalizer.Form.NFKD);
            case "Lowercase" -> text -> text.toLowerCase(Locale.ROOT);
            case "Prepend" -> {
                String prefix = Json.text(node, "prepend");
                yield text -> text.isEmpty() ? text : prefix + text; // Hugging Face prepends to non-empty text only
            }
            case "Replace" -> replace(node);
            case "Strip" -> {
                boolean left = node.path("strip_left").asBoolean(true);
                boolean right = node.path("strip_right").asBoolean(true);
                yield text -> strip(text, left, right);
            }
            case "StripAccents" -> {
                Pattern marks = Pattern.compile("\\p{M}");
                yield text -> marks.matcher(text).replaceAll("");
            }
            default -> throw new IllegalArgumentException("unsupported normalizer type '" + type
                    + "' (supported: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip, StripAccents)");
        };
    }

    private static TextNormalizer replace(JsonNode node) {
        String content = Json.text(node, "content");
        JsonNode pattern = node.path("pattern");
        if (pattern.has("String")) {
            String literal = pattern.get("String").asText();
            return literal.isEmpty() ? NONE : text -> text.replace(literal, content);
        }
        if (pattern.has("Regex")) {
            Pattern regex = HfRegex.compile(pattern.get("Regex").asText());
            String replacement = Matcher.quoteReplacement(content);
            return text -> regex.matcher(text).replaceAll(replacement);
        }
        throw new IllegalArgumentException("Replace normalizer without a String or Regex pattern: " + pattern);
    }

    /** Strips Unicode White_Space (what Rust's char::is_whitespace means) from either end. */
    static String strip(String text, boolean left, boolean right) {
        int start = 0;
        int end = text.length();
        while (left && start < end && isWhiteSpace(text.codePointAt(start))) {
            start += Character.charCount(text.codePointAt(start));
        }
        while (right && end > start && isWhiteSpace(text.codePointBefore(end))) {
            end -= Character.charCount(text.codePointBefore(end));
        }
        return text.substring(start, end);
    }

    /** Unicode's White_Space property (includes U+0085, excludes U+200B and U+FEFF). */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }
}
