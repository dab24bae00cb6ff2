package io.streaminfer.model;

/** SentencePiece's byte tokens, {@code <0x00>} to {@code <0xFF>}, as GGUF and tokenizer.json vocabularies spell them. */
public final class ByteTokens {
    private ByteTokens() {
    }

    /** The byte of a {@code <0xXX>} token, or -1. */
    public static int value(String token) {
        if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') {
            return -1;
        }
        int high = Character.digit(token.charAt(3), 16);
        int low = Character.digit(token.charAt(4), 16);
        return high < 0 || low < 0 ? -1 : high * 16 + low;
    }
}
