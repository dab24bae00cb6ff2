package io.streaminfer.model.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Python's {@code str} methods that chat templates call ({@code content.strip('\n')}, {@code .split('</think>')},
 * {@code .startswith(...)}), with Python's semantics: whitespace is {@code str.isspace()}'s, {@code split} keeps
 * trailing empty strings and takes a literal separator, indices count code points. Pure functions.
 */
final class PythonStrings {
    private PythonStrings() {
    }

    /** {@code str.isspace()} for one code point: Unicode White_Space plus the ASCII separators 0x1C-0x1F. */
    static boolean isSpace(int c) {
        if (c < 128) {
            return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
        }
        return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A)
                || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    /** {@code s.strip(chars)}; {@code chars == null} strips whitespace. */
    static String strip(String s, String chars) {
        return rstrip(lstrip(s, chars), chars);
    }

    static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length()) {
            int c = s.codePointAt(i);
            if (!stripped(c, chars)) {
                break;
            }
            i += Character.charCount(c);
        }
        return s.substring(i);
    }

    static String rstrip(String s, String chars) {
        int end = s.length();
        while (end > 0) {
            int c = s.codePointBefore(end);
            if (!stripped(c, chars)) {
                break;
            }
            end -= Character.charCount(c);
        }
        return s.substring(0, end);
    }

    private static boolean stripped(int c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    /** {@code s.split(sep, maxsplit)}; {@code sep == null} splits on runs of whitespace, dropping empty ends. */
    static List<String> split(String s, String sep, int maxsplit) {
        List<String> parts = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            while (true) {
                while (i < s.length() && isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                if (i == s.length()) {
                    return parts;
                }
                if (maxsplit >= 0 && parts.size() == maxsplit) {
                    parts.add(s.substring(i)); // the rest as it is, trailing whitespace and all
                    return parts;
                }
                int start = i;
                while (i < s.length() && !isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                parts.add(s.substring(start, i));
            }
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        int start = 0;
        int at;
        while ((maxsplit < 0 || parts.size() < maxsplit) && (at = s.indexOf(sep, start)) >= 0) {
            parts.add(s.substring(start, at));
            start = at + sep.length();
        }
        parts.add(s.substring(start));
        return parts;
    }

    /** {@code s.rsplit(sep, maxsplit)} with a separator. */
    static List<String> rsplit(String s, String sep, int maxsplit) {
        if (sep == null || maxsplit < 0) {
            return split(s, sep, maxsplit);
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        List<String> parts = new ArrayList<>();
        int end = s.length();
        while (parts.size() < maxsplit) {
            int at = end >= sep.length() ? s.lastIndexOf(sep, end - sep.length()) : -1;
            if (at < 0) {
                break;
            }
            parts.add(0, s.substring(at + sep.length(), end));
            end = at;
        }
        parts.add(0, s.substring(0, end));
        return parts;
    }

    /** {@code s.replace(old, new, count)}; {@code count < 0} replaces all. */
    static String replace(String s, String old, String replacement, int count) {
        if (count < 0) {
            if (old.isEmpty()) {
                return replaceEmpty(s, replacement, Integer.MAX_VALUE);
            }
            return s.replace(old, replacement);
        }
        if (old.isEmpty()) {
            return replaceEmpty(s, replacement, count);
        }
        StringBuilder out = new StringBuilder();
        int start = 0;
        int at;
        int done = 0;
        while (done < count && (at = s.indexOf(old, start)) >= 0) {
            out.append(s, start, at).append(replacement);
            start = at + old.length();
            done++;
        }
        return out.append(s, start, s.length()).toString();
    }

    /** Python inserts the replacement before every code point and at the end: 'ab'.replace('', '-') == '-a-b-'. */
    private static String replaceEmpty(String s, String replacement, int count) {
        StringBuilder out = new StringBuilder();
        int done = 0;
        int i = 0;
        while (i < s.length()) {
            if (done++ < count) {
                out.append(replacement);
            }
            int c = s.codePointAt(i);
            out.appendCodePoint(c);
            i += Character.charCount(c);
        }
        if (done < count) {
            out.append(replacement);
        }
        return out.toString();
    }

    /** {@code s.title()}: a cased character after a cased one is lowered, any other is title-cased. */
    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
            if (cased) {
                out.append(previousCased ? new String(Character.toChars(c)).toLowerCase(Locale.ROOT)
                        : titleCase(c));
            } else {
                out.appendCodePoint(c);
            }
            previousCased = cased;
        }
        return out.toString();
    }

    /** {@code s.capitalize()}: the first character title-cased, the rest lowered. */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return titleCase(first) + s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT);
    }

    /** Title case of one code point, with the special casings that expand ('ß' -> "Ss", 'ﬁ' -> "Fi"). */
    private static String titleCase(int c) {
        int title = Character.toTitleCase(c);
        if (title != c || !Character.isLowerCase(c)) {
            return new String(Character.toChars(title));
        }
        String upper = new String(Character.toChars(c)).toUpperCase(Locale.ROOT);
        return upper.length() <= 1 ? upper
                : upper.substring(0, upper.offsetByCodePoints(0, 1))
                        + upper.substring(upper.offsetByCodePoints(0, 1)).toLowerCase(Locale.ROOT);
    }

    /** Code-point length, as Python's {@code len(s)}. */
    static int length(String s) {
        return s.codePointCount(0, s.length());
    }

    /** {@code s[start:stop:step]} over code points; {@code null} bounds are Python's omitted ones. */
    static String slice(String s, Integer start, Integer stop, Integer step) {
        int[] codePoints = s.codePoints().toArray();
        StringBuilder out = new StringBuilder();
        for (int index : Slices.indices(codePoints.length, start, stop, step)) {
            out.appendCodePoint(codePoints[index]);
        }
        return out.toString();
    }
}
