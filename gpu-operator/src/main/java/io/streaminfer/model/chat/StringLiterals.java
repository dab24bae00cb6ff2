package io.streaminfer.model.chat;

/**
 * Jinja2 string literals for Jinjava: Jinja2 decodes them with Python's {@code unicode-escape} ({@code \x41},
 * {@code \\u00e9}, {@code \U0001F600}, octal, {@code \a}, {@code \v}; unknown escapes such as {@code \d} keep their
 * backslash; a backslash-newline joins lines), Jinjava's scanner knows {@code \\ \' \" \n \t \r \b \f} only.
 */
final class StringLiterals {
    private StringLiterals() {
    }

    /**
     * Reads the Jinja2 string literal at {@code start} of {@code source}, appends it to {@code literal} written with
     * only the escapes Jinjava's scanner knows, and returns the index after it.
     */
    static int rewrite(String source, int start, StringBuilder literal) {
        int pos = start;
        char quote = source.charAt(pos++);
        StringBuilder value = new StringBuilder();
        while (pos < source.length() && source.charAt(pos) != quote) {
            char c = source.charAt(pos++);
            if (c != '\\' || pos >= source.length()) {
                value.append(c);
                continue;
            }
            pos = unescape(source, pos, value);
        }
        pos++; // the closing quote
        literal.append(quote);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> literal.append("\\\\");
                case '\n' -> literal.append("\\n");
                case '\t' -> literal.append("\\t");
                case '\r' -> literal.append("\\r");
                case '\b' -> literal.append("\\b");
                case '\f' -> literal.append("\\f");
                default -> literal.append(c == quote ? "\\" + c : String.valueOf(c));
            }
        }
        literal.append(quote);
        return pos;
    }

    /** Python's unicode-escape for the escape after a backslash at {@code at - 1}; returns the index after it. */
    private static int unescape(String s, int at, StringBuilder value) {
        char e = s.charAt(at);
        switch (e) {
            case '\n' -> { // a backslash-newline continues the line
                return at + 1;
            }
            case '\\', '\'', '"' -> value.append(e);
            case 'a' -> value.append('\u0007');
            case 'b' -> value.append('\b');
            case 'f' -> value.append('\f');
            case 'n' -> value.append('\n');
            case 'r' -> value.append('\r');
            case 't' -> value.append('\t');
            case 'v' -> value.append('\u000b');
            case 'x', 'u', 'U' -> {
                int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                if (at + 1 + digits <= s.length() && s.substring(at + 1, at + 1 + digits).matches("[0-9a-fA-F]+")) {
                    value.appendCodePoint(Integer.parseUnsignedInt(s.substring(at + 1, at + 1 + digits), 16));
                    return at + 1 + digits;
                }
                throw new ChatTemplateException("the chat template does not parse: truncated \\" + e
                        + " escape in a string literal", null, null);
            }
            default -> {
                if (e >= '0' && e <= '7') {
                    int end = at;
                    while (end < s.length() && end < at + 3 && s.charAt(end) >= '0' && s.charAt(end) <= '7') {
                        end++;
                    }
                    value.append((char) Integer.parseInt(s.substring(at, end), 8));
                    return end;
                }
                value.append('\\').append(e); // Python keeps unknown escapes as they are
            }
        }
        return at + 1;
    }
}
