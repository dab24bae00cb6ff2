package io.streaminfer.model.tokenizer;

/**
 * GPT-2's byte-to-unicode map, which byte-level BPE vocabularies are written in: the printable bytes
 * {@code !..~}, {@code ¡..¬} and {@code ®..ÿ} stand for themselves, the other 68 bytes for U+0100 onwards in
 * byte order (space is {@code Ġ}, newline {@code Ċ}). Also UTF-8 encoding as JavaScript's TextEncoder does
 * it: a lone surrogate becomes the bytes of U+FFFD (Java's encoder would write '?').
 */
public final class ByteLevelAlphabet {
    private static final char[] CHAR_OF_BYTE = new char[256];
    private static final byte[] BYTE_OF_CHAR = new byte[324]; // chars up to U+0143
    private static final boolean[] MAPPED = new boolean[324];

    static {
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            CHAR_OF_BYTE[b] = (char) (printable ? b : next++);
        }
        for (int b = 0; b < 256; b++) {
            BYTE_OF_CHAR[CHAR_OF_BYTE[b]] = (byte) b;
            MAPPED[CHAR_OF_BYTE[b]] = true;
        }
    }

    private ByteLevelAlphabet() {
    }

    /** The character that stands for {@code b} (0..255). */
    public static char charOf(int b) {
        return CHAR_OF_BYTE[b & 0xFF];
    }

    /** The byte {@code c} stands for, or -1 if {@code c} is not in the alphabet. */
    public static int byteOf(char c) {
        return c < MAPPED.length && MAPPED[c] ? BYTE_OF_CHAR[c] & 0xFF : -1;
    }

    /** The text's UTF-8 bytes, each written as its alphabet character. */
    public static String encode(CharSequence text) {
        int n = text.length();
        char[] ascii = new char[n];
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c >= 0x80) {
                ascii = null;
                break;
            }
            ascii[i] = CHAR_OF_BYTE[c];
        }
        if (ascii != null) {
            return new String(ascii);
        }
        byte[] utf8 = utf8(text);
        char[] chars = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            chars[i] = CHAR_OF_BYTE[utf8[i] & 0xFF];
        }
        return new String(chars);
    }

    /**
     * The bytes a byte-level token stands for; a token with a character outside the alphabet (an added
     * token's text) stands for its own UTF-8 bytes, as Hugging Face's decoder has it.
     */
    public static byte[] decode(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) {
                return utf8(token);
            }
            out[i] = (byte) b;
        }
        return out;
    }

    /** UTF-8 with every lone surrogate as EF BF BD (U+FFFD), as TextEncoder and Rust's lossy strings. */
    public static byte[] utf8(CharSequence text) {
        int n = text.length();
        byte[] out = new byte[n * 3];
        int o = 0;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                out[o++] = (byte) c;
            } else if (c < 0x800) {
                out[o++] = (byte) (0xC0 | (c >> 6));
                out[o++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                out[o++] = (byte) (0xF0 | (cp >> 18));
                out[o++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                out[o++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                int cp = Character.isSurrogate(c) ? 0xFFFD : c;
                out[o++] = (byte) (0xE0 | (cp >> 12));
                out[o++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (byte) (0x80 | (cp & 0x3F));
            }
        }
        return java.util.Arrays.copyOf(out, o);
    }
}
