package io.streaminfer.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tokenizer.json {@code pre_tokenizer}: cuts normalized text into the pieces that BPE merges within.
 * Immutable and thread-safe.
 */
public interface PreTokenizer {

    /**
     * Appends the pieces of {@code text} to {@code out}.
     *
     * @param sectionIndex index of the text's section among the added-token splits of the input (0 = the
     *     first), for Metaspace's {@code prepend_scheme: "first"}
     */
    void split(String text, int sectionIndex, List<String> out);

    /** The whole text as one piece, for {@code "pre_tokenizer": null}. */
    PreTokenizer NONE = (text, sectionIndex, out) -> out.add(text);

    /** GPT-2's pattern, which ByteLevel uses when {@code use_regex} is true. */
    String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** @throws IllegalArgumentException naming an unsupported pre-tokenizer type or option */
    static PreTokenizer fromJson(JsonNode node) {
        if (node == null || node.isNull()) {
            return NONE;
        }
        String type = Json.type(node, "pre_tokenizer");
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonNode step : Json.array(node, "pretokenizers")) {
                    steps.add(fromJson(step));
                }
                yield (text, sectionIndex, out) -> {
                    List<String> pieces = List.of(text);
                    for (PreTokenizer step : steps) {
                        List<String> next = new ArrayList<>(pieces.size() * 2);
                        for (String piece : pieces) {
                            step.split(piece, sectionIndex, next);
                        }
                        pieces = next;
                    }
                    out.addAll(pieces);
                };
            }
            case "Split" -> split(node);
            case "ByteLevel" -> byteLevel(node);
            case "Metaspace" -> metaspace(node);
            case "Digits" -> {
                boolean individual = node.path("individual_digits").asBoolean(false);
                Pattern digits = Pattern.compile(individual ? "[\\p{Nd}\\p{Nl}\\p{No}]" : "[\\p{Nd}\\p{Nl}\\p{No}]+");
                yield (text, sectionIndex, out) -> splitOn(digits, text, Behavior.ISOLATED, false, out);
            }
            case "WhitespaceSplit" -> {
                Pattern spaces = Pattern.compile("\\p{IsWhite_Space}+");
                yield (text, sectionIndex, out) -> splitOn(spaces, text, Behavior.REMOVED, false, out);
            }
            default -> throw new IllegalArgumentException("unsupported pre_tokenizer type '" + type
                    + "' (supported: Sequence, Split, ByteLevel, Metaspace, Digits, WhitespaceSplit)");
        };
    }

    /** Split's {@code behavior}: what becomes of the matches. */
    enum Behavior { REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS }

    private static PreTokenizer split(JsonNode node) {
        JsonNode pattern = node.path("pattern");
        Pattern regex;
        if (pattern.has("String")) {
            regex = Pattern.compile(Pattern.quote(pattern.get("String").asText()));
        } else if (pattern.has("Regex")) {
            regex = HfRegex.compile(pattern.get("Regex").asText());
        } else {
            throw new IllegalArgumentException("Split pre_tokenizer without a String or Regex pattern: " + pattern);
        }
        String behaviorName = Json.text(node, "behavior");
        Behavior behavior = switch (behaviorName) {
            case "Removed" -> Behavior.REMOVED;
            case "Isolated" -> Behavior.ISOLATED;
            case "MergedWithPrevious" -> Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> Behavior.MERGED_WITH_NEXT;
            case "Contiguous" -> Behavior.CONTIGUOUS;
            default -> throw new IllegalArgumentException("unsupported Split behavior '" + behaviorName + "'");
        };
        boolean invert = node.path("invert").asBoolean(false);
        return (text, sectionIndex, out) -> splitOn(regex, text, behavior, invert, out);
    }

    /** Cuts {@code text} at the non-empty matches of {@code regex}, as Hugging Face's split behaviors do. */
    static void splitOn(Pattern regex, String text, Behavior behavior, boolean invert, List<String> out) {
        if (behavior == Behavior.ISOLATED) { // every part is a piece: no bookkeeping (the common case)
            Matcher m = regex.matcher(text);
            int previous = 0;
            while (m.find()) {
                if (m.end() > m.start()) {
                    if (m.start() > previous) {
                        out.add(text.substring(previous, m.start()));
                    }
                    out.add(text.substring(m.start(), m.end()));
                    previous = m.end();
                }
            }
            if (previous < text.length()) {
                out.add(text.substring(previous));
            }
            return;
        }
        List<int[]> parts = new ArrayList<>(); // (start, end, 1 if a match)
        Matcher m = regex.matcher(text);
        int previous = 0;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue;
            }
            if (m.start() > previous) {
                parts.add(new int[] {previous, m.start(), invert ? 1 : 0});
            }
            parts.add(new int[] {m.start(), m.end(), invert ? 0 : 1});
            previous = m.end();
        }
        if (previous < text.length()) {
            parts.add(new int[] {previous, text.length(), invert ? 1 : 0});
        }
        int pendingStart = -1; // MERGED_WITH_NEXT and CONTIGUOUS carry a start into the next part
        for (int i = 0; i < parts.size(); i++) {
            int[] p = parts.get(i);
            boolean match = p[2] == 1;
            switch (behavior) {
                case REMOVED -> {
                    if (!match) {
                        out.add(text.substring(p[0], p[1]));
                    }
                }
                case ISOLATED -> out.add(text.substring(p[0], p[1]));
                case MERGED_WITH_PREVIOUS -> {
                    if (match && i > 0 && parts.get(i - 1)[2] == 0) {
                        out.set(out.size() - 1, out.get(out.size() - 1) + text.substring(p[0], p[1]));
                    } else {
                        out.add(text.substring(p[0], p[1]));
                    }
                }
                case MERGED_WITH_NEXT, CONTIGUOUS -> {
                    // a match joins the part after it when that is text (MERGED_WITH_NEXT) or a match (CONTIGUOUS)
                    int start = pendingStart >= 0 ? pendingStart : p[0];
                    int joinedKind = behavior == Behavior.MERGED_WITH_NEXT ? 0 : 1;
                    boolean joinsNext = i + 1 < parts.size() && parts.get(i + 1)[2] == joinedKind;
                    if (match && joinsNext) {
                        pendingStart = start;
                    } else {
                        out.add(text.substring(start, p[1]));
                        pendingStart = -1;
                    }
                }
            }
        }
    }

    private static PreTokenizer byteLevel(JsonNode node) {
        boolean addPrefixSpace = node.path("add_prefix_space").asBoolean(true);
        boolean useRegex = node.path("use_regex").asBoolean(true);
        Pattern gpt2 = useRegex ? HfRegex.compile(GPT2_PATTERN) : null;
        return (text, sectionIndex, out) -> {
            String t = addPrefixSpace && !text.startsWith(" ") ? " " + text : text;
            if (gpt2 == null) {
                out.add(ByteLevelAlphabet.encode(t));
                return;
            }
            Matcher m = gpt2.matcher(t);
            while (m.find()) {
                out.add(ByteLevelAlphabet.encode(t.substring(m.start(), m.end())));
            }
        };
    }

    /**
     * Metaspace: spaces become the replacement (U+2581), which is prepended as the scheme says; with
     * {@code split} the text is cut before each replacement, as Hugging Face's Rust library does.
     */
    private static PreTokenizer metaspace(JsonNode node) {
        String replacement = node.path("replacement").asText("\u2581");
        String scheme = node.has("prepend_scheme") ? node.get("prepend_scheme").asText().toLowerCase(Locale.ROOT)
                : node.path("add_prefix_space").asBoolean(true) ? "always" : "never";
        if (!scheme.equals("always") && !scheme.equals("first") && !scheme.equals("never")) {
            throw new IllegalArgumentException("unsupported Metaspace prepend_scheme '" + scheme + "'");
        }
        boolean splitPieces = node.path("split").asBoolean(true);
        Pattern marker = Pattern.compile(Pattern.quote(replacement));
        return (text, sectionIndex, out) -> {
            String t = text.replace(" ", replacement);
            boolean prepend = scheme.equals("always") || (scheme.equals("first") && sectionIndex == 0);
            if (prepend && !t.startsWith(replacement)) {
                t = replacement + t;
            }
            if (splitPieces) {
                splitOn(marker, t, Behavior.MERGED_WITH_NEXT, false, out);
            } else {
                out.add(t);
            }
        };
    }
}
