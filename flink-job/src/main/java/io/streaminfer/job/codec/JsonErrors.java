package io.streaminfer.job.codec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a JSON parse error means to the person who wrote the line: Jackson's messages name its own
 * features and limits ({@code JsonReadFeature...}, {@code StreamReadConstraints...}); these name the mistake
 * and the column.
 */
final class JsonErrors {
    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '(.*)' for `");
    private static final Pattern NON_STANDARD = Pattern.compile("Non-standard token '([^']*)'");
    private static final Pattern CONTROL = Pattern.compile("Illegal unquoted character \\(\\(CTRL-CHAR, code (\\d+)\\)\\)");
    private static final Pattern LIMIT = Pattern.compile(
            "(Number value|String value|Document nesting depth|Name) length \\((\\d+)\\) exceeds the maximum (?:allowed|length) \\((\\d+)");
    private static final Pattern DEPTH = Pattern.compile("Document nesting depth \\((\\d+)\\) exceeds the maximum allowed \\((\\d+)");
    private static final Pattern BACKTICKS = Pattern.compile("\\s*\\(?[^()]*`[^`]*`[^()]*\\)?");

    private JsonErrors() {}

    /** The reason a line is not JSON, in the writer's terms. */
    static String describe(JsonProcessingException e) {
        String message = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        String at = at(e.getLocation());
        Matcher m;
        if ((m = DUPLICATE.matcher(message)).find()) {
            return "field \"" + m.group(1) + "\" appears twice";
        }
        if ((m = NON_STANDARD.matcher(message)).find()) {
            return m.group(1) + " is not a JSON number" + at + " (write a finite number, or leave the field out)";
        }
        if ((m = CONTROL.matcher(message)).find()) {
            return "a control character (code " + m.group(1) + ") inside a string" + at
                    + " must be escaped (\\n, \\t, \\u0000 ...)";
        }
        if ((m = DEPTH.matcher(message)).find()) {
            return "the JSON nests " + m.group(1) + " levels deep" + at + ", more than the " + m.group(2) + " read";
        }
        if ((m = LIMIT.matcher(message)).find()) {
            String what = m.group(1).equals("Number value") ? "a number" : m.group(1).equals("Name") ? "a field name" : "a string";
            return what + " of " + m.group(2) + " characters" + at + " is longer than the " + m.group(3) + " read";
        }
        if (message.contains("(code 65279")) {
            return "a byte-order mark (U+FEFF, invisible)" + at + " where JSON was expected; only a file's first line"
                    + " may start with one (was this line joined from another file?)";
        }
        if (message.startsWith("Unexpected end-of-input")) {
            return "the line ends inside the JSON" + (message.contains("VALUE_STRING") || message.contains("quote for a string") ? " string" : "")
                    + " (a missing '\"', ']' or '}'?)";
        }
        String first = message.lines().findFirst().orElse("");
        return "malformed JSON" + at + ": " + BACKTICKS.matcher(first).replaceAll("").strip();
    }

    /** The reason for content after the JSON value: it shows where and what. */
    static String trailing(String line, int offset) {
        int start = Math.max(0, Math.min(offset, line.length()));
        while (start < line.length() && Character.isWhitespace(line.charAt(start))) {
            start++;
        }
        String rest = line.substring(start).strip();
        String shown = rest.length() > 40 ? rest.substring(0, 37) + "..." : rest;
        return "the line holds more than one JSON value: after the object comes, at column " + (start + 1) + ", "
                + quote(shown) + " (one JSON object per line)";
    }

    private static String at(JsonLocation location) {
        return location == null || location.getColumnNr() < 1 ? "" : " at column " + location.getColumnNr();
    }

    private static String quote(String text) {
        return "`" + text + "`";
    }
}
