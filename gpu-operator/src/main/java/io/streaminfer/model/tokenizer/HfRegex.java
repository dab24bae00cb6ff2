package io.streaminfer.model.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The regular expressions of tokenizer.json (written for Oniguruma, which Hugging Face's Rust library runs)
 * as {@link java.util.regex.Pattern}s that match the same strings. What differs and is rewritten:
 * <ul>
 *   <li>{@code \s}, {@code \S}: Unicode White_Space (with U+0085, without U+FEFF), not Java's ASCII class;</li>
 *   <li>{@code \d}, {@code \w}, {@code \b}, {@code \h}: Unicode digits and word characters, hex digits (Java's
 *       {@code \h} is horizontal space);</li>
 *   <li>{@code .}: anything but {@code \n} (Java also stops at \r, U+0085, U+2028 and U+2029);</li>
 *   <li>{@code ^}, {@code $}: line anchors at {@code \n} only; {@code \v}: U+000B (Java: a class);</li>
 *   <li>{@code (?i:...)}: ASCII case folding, as Java does without UNICODE_CASE (so no flag is set);</li>
 *   <li>{@code \p{Name}}: general categories as they are, scripts and properties as {@code \p{IsName}}.</li>
 * </ul>
 * A construct read differently by the two engines ({@code x{n,m}+}: a repeated repetition in Oniguruma, a
 * possessive one in Java) is refused.
 */
public final class HfRegex {
    private static final String WORD = "\\p{IsAlphabetic}\\p{M}\\p{Nd}\\p{Pc}";
    private static final String WHITE = "\\p{IsWhite_Space}";

    private HfRegex() {
    }

    /** @throws IllegalArgumentException naming the construct that cannot be translated */
    public static Pattern compile(String oniguruma) {
        String java = translate(oniguruma);
        try {
            return Pattern.compile(java);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("regex " + quote(oniguruma) + " does not translate to Java: "
                    + e.getDescription(), e);
        }
    }

    static String translate(String regex) {
        StringBuilder out = new StringBuilder(regex.length() + 32);
        int classDepth = 0;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            boolean inClass = classDepth > 0;
            if (c == '\\' && i + 1 < regex.length()) {
                char e = regex.charAt(++i);
                switch (e) {
                    case 's' -> out.append(inClass ? WHITE : "[" + WHITE + "]");
                    case 'S' -> out.append(inClass ? "\\P{IsWhite_Space}" : "[^" + WHITE + "]");
                    case 'd' -> out.append("\\p{Nd}");
                    case 'D' -> out.append("\\P{Nd}");
                    case 'w' -> out.append(inClass ? WORD : "[" + WORD + "]");
                    case 'W' -> {
                        if (inClass) {
                            throw new IllegalArgumentException("regex " + quote(regex) + ": \\W inside a class");
                        }
                        out.append("[^" + WORD + "]");
                    }
                    case 'h' -> out.append(inClass ? "0-9A-Fa-f" : "[0-9A-Fa-f]");
                    case 'H' -> out.append("[^0-9A-Fa-f]");
                    case 'v' -> out.append("\\x0B");
                    case 'b', 'B' -> {
                        if (inClass) { // \b in a class is a backspace in both
                            out.append("\\x08");
                        } else {
                            String w = "[" + WORD + "]";
                            out.append(e == 'b'
                                    ? "(?:(?<=" + w + ")(?!" + w + ")|(?<!" + w + ")(?=" + w + "))"
                                    : "(?:(?<=" + w + ")(?=" + w + ")|(?<!" + w + ")(?!" + w + "))");
                        }
                    }
                    case 'p', 'P' -> i = property(regex, i, e, out);
                    case 'x' -> {
                        int close = i + 1 < regex.length() && regex.charAt(i + 1) == '{' ? regex.indexOf('}', i) : -1;
                        int end = close >= 0 ? close : Math.min(i + 2, regex.length() - 1);
                        out.append('\\').append(regex, i, end + 1);
                        i = end;
                    }
                    default -> out.append('\\').append(e);
                }
                continue;
            }
            if (inClass) {
                if (c == '[') {
                    classDepth++;
                } else if (c == ']') {
                    classDepth--;
                }
                out.append(c);
                continue;
            }
            switch (c) {
                case '[' -> {
                    classDepth = 1;
                    out.append(c);
                    if (i + 1 < regex.length() && regex.charAt(i + 1) == '^') {
                        out.append('^');
                        i++;
                    }
                    if (i + 1 < regex.length() && regex.charAt(i + 1) == ']') { // a literal ] first in a class
                        out.append("\\]");
                        i++;
                    }
                }
                case '.' -> out.append("[^\\n]");
                case '^' -> out.append("(?:(?<![\\s\\S])|(?<=\\n))");
                case '$' -> out.append("(?=\\n|(?![\\s\\S]))");
                case '}' -> {
                    out.append(c);
                    if (i + 1 < regex.length() && regex.charAt(i + 1) == '+' && out.toString().matches("(?s).*\\{\\d*,?\\d*}")) {
                        throw new IllegalArgumentException("regex " + quote(regex)
                                + ": {n,m}+ means a repeated repetition in Oniguruma and a possessive one in Java");
                    }
                }
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** Copies {@code \p{Name}} (or {@code \pL}); returns the index of its last character. */
    private static int property(String regex, int i, char kind, StringBuilder out) {
        if (i + 1 < regex.length() && regex.charAt(i + 1) != '{') {
            out.append('\\').append(kind).append(regex.charAt(i + 1));
            return i + 1;
        }
        int close = regex.indexOf('}', i);
        if (close < 0) {
            throw new IllegalArgumentException("regex " + quote(regex) + ": unterminated \\" + kind + "{");
        }
        String name = regex.substring(i + 2, close);
        boolean negated = name.startsWith("^");
        if (negated) {
            name = name.substring(1);
        }
        char effective = negated ? (kind == 'p' ? 'P' : 'p') : kind;
        String javaName = name.matches("[A-Z][a-z&]?|L&") ? name.replace("L&", "LC") : "Is" + name.replace(" ", "_");
        out.append('\\').append(effective).append('{').append(javaName).append('}');
        return close;
    }

    private static String quote(String regex) {
        return "'" + regex.replace("\n", "\\n").replace("\r", "\\r") + "'";
    }
}
