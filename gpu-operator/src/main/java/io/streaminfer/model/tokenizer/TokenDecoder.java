package io.streaminfer.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import io.streaminfer.model.ByteTokens;
import io.streaminfer.model.Utf8Stream;
import java.util.ArrayList;
import java.util.List;

/**
 * tokenizer.json's {@code decoder}, run one token at a time: a whole decode is the stream of every token,
 * so streamed pieces and whole decodes agree by construction. Two shapes are supported:
 * <ul>
 *   <li><b>byte-level</b> ({@code ByteLevel}): each token's characters stand for bytes, which are decoded as
 *       UTF-8 together; an added token that is kept reads as its text and ends the run of bytes before it;</li>
 *   <li><b>pieces</b> (SentencePiece style): {@code Replace} steps on each token (e.g. "▁" to " "), then
 *       {@code ByteFallback} ({@code <0xXX>} tokens are bytes; a run of them is decoded as UTF-8 when a
 *       text token follows), {@code Fuse}, and {@code Strip} of the whole text (Llama 2's leading space);
 *       or {@code Metaspace}, which also drops the first token's leading space.</li>
 * </ul>
 * Malformed UTF-8 becomes U+FFFD per maximal invalid subsequence, as transformers.js decodes (Hugging Face's
 * Rust ByteFallback writes one U+FFFD per byte of an invalid run instead). Unknown ids (negative, past the
 * vocabulary) read as nothing, as in Hugging Face's Rust decoder. Immutable; streams are per sequence.
 */
record TokenDecoder(
        String[] text,          // (vocab) what a token reads as when it is text, after Replace steps
        byte[][] bytes,         // (vocab) the bytes a token stands for, or null when it is text
        boolean[] special,      // (vocab) left out when special tokens are skipped
        char stripContent,
        int stripStart,         // leading stripContent characters removed from the whole text
        int stripStop,          // trailing ones
        boolean firstTokenSpace // Metaspace: the first token's leading space is dropped
) {
    /**
     * @param tokens (vocab) each id's token string, null for ids without one
     * @param added (vocab) added tokens, which a byte-level decoder passes through as text
     * @param special (vocab) special tokens
     * @throws IllegalArgumentException naming the unsupported decoder or step order
     */
    static TokenDecoder fromJson(JsonNode node, String[] tokens, boolean[] added, boolean[] special) {
        if (node == null || node.isNull()) {
            throw new IllegalArgumentException("unsupported decoder null (tokens would be joined with spaces)");
        }
        List<JsonNode> steps = new ArrayList<>();
        if (Json.type(node, "decoder").equals("Sequence")) {
            Json.array(node, "decoders").forEach(steps::add);
        } else {
            steps.add(node);
        }
        int n = tokens.length;
        String[] text = new String[n];
        byte[][] bytes = new byte[n][];
        if (steps.size() == 1 && Json.type(steps.get(0), "decoder").equals("ByteLevel")) {
            for (int id = 0; id < n; id++) {
                if (tokens[id] != null && added[id]) {
                    text[id] = tokens[id];
                } else if (tokens[id] != null) {
                    bytes[id] = ByteLevelAlphabet.decode(tokens[id]);
                }
            }
            return new TokenDecoder(text, bytes, special, ' ', 0, 0, false);
        }
        System.arraycopy(tokens, 0, text, 0, n);
        int phase = 0; // 0 Replace, 1 ByteFallback, 2 Fuse, 3 Strip or Metaspace: each step comes after the last
        boolean byteFallback = false;
        boolean fused = false;
        char stripContent = ' ';
        int stripStart = 0;
        int stripStop = 0;
        boolean firstTokenSpace = false;
        for (JsonNode step : steps) {
            String type = Json.type(step, "decoder");
            int stepPhase = switch (type) {
                case "Replace" -> 0;
                case "ByteFallback" -> 1;
                case "Fuse" -> 2;
                case "Strip", "Metaspace" -> 3;
                default -> throw new IllegalArgumentException("unsupported decoder type '" + type
                        + "' (supported: ByteLevel alone, or Replace, ByteFallback, Fuse, Strip, Metaspace in that order)");
            };
            if (stepPhase < phase || (stepPhase == 3 && phase == 3)) {
                throw new IllegalArgumentException("unsupported decoder order: " + type + " after "
                        + Json.abbreviate(node));
            }
            phase = stepPhase;
            switch (type) {
                case "Replace" -> {
                    JsonNode pattern = step.path("pattern");
                    if (!pattern.has("String")) {
                        throw new IllegalArgumentException("unsupported Replace decoder pattern " + pattern);
                    }
                    String from = pattern.get("String").asText();
                    String to = Json.text(step, "content");
                    for (int id = 0; id < n; id++) {
                        if (text[id] != null && !from.isEmpty()) {
                            text[id] = text[id].replace(from, to);
                        }
                    }
                }
                case "ByteFallback" -> byteFallback = true;
                case "Fuse" -> fused = true;
                case "Strip" -> {
                    String content = Json.text(step, "content");
                    if (content.length() != 1 || !fused) {
                        throw new IllegalArgumentException("unsupported Strip decoder " + step
                                + " (supported: one character, after Fuse)");
                    }
                    stripContent = content.charAt(0);
                    stripStart = step.path("start").asInt(0);
                    stripStop = step.path("stop").asInt(0);
                }
                case "Metaspace" -> {
                    if (byteFallback || fused) {
                        throw new IllegalArgumentException("unsupported Metaspace decoder after ByteFallback or Fuse");
                    }
                    String replacement = step.path("replacement").asText("\u2581");
                    for (int id = 0; id < n; id++) {
                        if (text[id] != null) {
                            text[id] = text[id].replace(replacement, " ");
                        }
                    }
                    String scheme = step.path("prepend_scheme").asText("always");
                    firstTokenSpace = !scheme.equals("never") && step.path("add_prefix_space").asBoolean(true);
                }
                default -> throw new AssertionError(type);
            }
        }
        if (byteFallback) {
            for (int id = 0; id < n; id++) {
                int b = text[id] == null ? -1 : ByteTokens.value(text[id]);
                if (b >= 0) {
                    bytes[id] = new byte[] {(byte) b};
                    text[id] = null;
                }
            }
        }
        return new TokenDecoder(text, bytes, special, stripContent, stripStart, stripStop, firstTokenSpace);
    }


    String decode(int[] ids, boolean skipSpecial) {
        Stream stream = new Stream(skipSpecial);
        StringBuilder out = new StringBuilder(ids.length * 4);
        for (int id : ids) {
            stream.next(id, out);
        }
        stream.finish(out);
        return out.toString();
    }

    Stream stream(boolean skipSpecial) {
        return new Stream(skipSpecial);
    }

    /** One sequence's decoding state. Not thread-safe. */
    final class Stream {
        private final boolean skipSpecial;
        private final Utf8Stream utf8 = new Utf8Stream();
        private boolean bytesPending;  // bytes went into utf8 since the last text token
        private long tokens;           // tokens the decoder has seen (after skipping)
        private int leadingLeft = stripStart; // leading strip characters that may still be removed
        private int held;              // trailing stripContent characters held back (at most stripStop)

        private Stream(boolean skipSpecial) {
            this.skipSpecial = skipSpecial;
        }

        /** Appends the text {@code id} completes. */
        void next(int id, StringBuilder out) {
            if (id < 0 || id >= text.length || (skipSpecial && special[id])) {
                return;
            }
            byte[] b = bytes[id];
            if (b != null) {
                bytesPending = true;
                emit(utf8.push(b), out);
            } else if (text[id] != null) {
                flushBytes(out);
                String t = text[id];
                if (firstTokenSpace && tokens == 0 && t.startsWith(" ")) {
                    t = t.substring(1);
                }
                emit(t, out);
            } else {
                return; // an id without a token
            }
            tokens++;
        }

        /** Appends what is held back: an unfinished UTF-8 sequence as U+FFFD; trailing strip characters go. */
        void finish(StringBuilder out) {
            flushBytes(out);
            held = 0;
        }

        private void flushBytes(StringBuilder out) {
            if (bytesPending) {
                emit(utf8.finish(), out);
                bytesPending = false;
            }
        }

        private void emit(String s, StringBuilder out) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (leadingLeft > 0) {
                    if (c == stripContent) {
                        leadingLeft--;
                        continue;
                    }
                    leadingLeft = 0;
                }
                if (stripStop > 0) {
                    if (c == stripContent) {
                        if (held < stripStop) {
                            held++;
                        } else {
                            out.append(c);
                        }
                        continue;
                    }
                    for (; held > 0; held--) {
                        out.append(stripContent);
                    }
                }
                out.append(c);
            }
        }
    }
}
