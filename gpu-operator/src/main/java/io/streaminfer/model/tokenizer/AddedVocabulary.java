package io.streaminfer.model.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text: at each position the longest token that starts there, scanning left to right
 * (leftmost-longest, as Hugging Face's Aho-Corasick matcher does), through a character trie. A match of a
 * {@code single_word} token with a word character next to it is left as text; {@code lstrip}/{@code rstrip}
 * tokens swallow the adjacent whitespace. Immutable.
 */
final class AddedVocabulary {
    /** A stretch of input: plain text ({@code token} null) or one added token. */
    record Section(String text, AddedToken token) {
    }

    private static final class Node {
        final Map<Character, Node> children = new HashMap<>(4);
        AddedToken token;
    }

    private final Node root = new Node();
    private final boolean empty;

    AddedVocabulary(List<AddedToken> tokens) {
        for (AddedToken token : tokens) {
            Node node = root;
            for (int i = 0; i < token.content().length(); i++) {
                node = node.children.computeIfAbsent(token.content().charAt(i), c -> new Node());
            }
            if (node.token == null) {
                node.token = token;
            }
        }
        this.empty = tokens.isEmpty();
    }

    /** Cuts {@code text} into plain stretches and added tokens, in order; empty stretches are left out. */
    List<Section> split(String text) {
        List<Section> out = new ArrayList<>();
        if (empty) {
            out.add(new Section(text, null));
            return out;
        }
        int plainStart = 0;
        int i = 0;
        while (i < text.length()) {
            Node node = root;
            AddedToken match = null;
            int matchEnd = -1;
            for (int j = i; j < text.length(); j++) {
                node = node.children.get(text.charAt(j));
                if (node == null) {
                    break;
                }
                if (node.token != null) {
                    match = node.token;
                    matchEnd = j + 1;
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            if (match.singleWord() && (isWordBefore(text, i) || isWordAfter(text, matchEnd))) {
                i = matchEnd; // the matcher moves past a rejected match, as Hugging Face's does
                continue;
            }
            int start = i;
            int end = matchEnd;
            if (match.leftStrip()) {
                while (start > plainStart && TextNormalizer.isWhiteSpace(text.codePointBefore(start))) {
                    start -= Character.charCount(text.codePointBefore(start));
                }
            }
            if (match.rightStrip()) {
                while (end < text.length() && TextNormalizer.isWhiteSpace(text.codePointAt(end))) {
                    end += Character.charCount(text.codePointAt(end));
                }
            }
            if (start > plainStart) {
                out.add(new Section(text.substring(plainStart, start), null));
            }
            out.add(new Section(match.content(), match));
            plainStart = end;
            i = end;
        }
        if (plainStart < text.length()) {
            out.add(new Section(text.substring(plainStart), null));
        }
        return out;
    }

    private static boolean isWordBefore(String text, int index) {
        return index > 0 && isWordChar(text.codePointBefore(index));
    }

    private static boolean isWordAfter(String text, int index) {
        return index < text.length() && isWordChar(text.codePointAt(index));
    }

    private static boolean isWordChar(int cp) {
        return Character.isLetterOrDigit(cp) || cp == '_';
    }
}
