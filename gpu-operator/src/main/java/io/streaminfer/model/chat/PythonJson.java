package io.streaminfer.model.chat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Python's {@code json.dumps(x, ensure_ascii, indent, separators, sort_keys)}, which is what Hugging Face's
 * {@code tojson} filter calls: items joined by {@code ", "} and keys by {@code ": "} (with an indent, items by
 * {@code ","}), non-ASCII characters kept unless {@code ensure_ascii}, floats written as Python's {@code repr}.
 *
 * @param indent     spaces (or the string) to indent nested levels with; {@code null} writes one line
 * @param separators item and key separators; {@code null} picks Python's defaults for the indent
 */
record PythonJson(boolean ensureAscii, String indent, List<String> separators, boolean sortKeys) {
    static final PythonJson DEFAULT = new PythonJson(false, null, null, false);

    String dumps(Object value) {
        String itemSeparator = separators != null ? separators.get(0) : indent != null ? "," : ", ";
        String keySeparator = separators != null ? separators.get(1) : ": ";
        StringBuilder out = new StringBuilder();
        write(out, value, 0, itemSeparator, keySeparator);
        return out.toString();
    }

    private void write(StringBuilder out, Object value, int depth, String itemSeparator, String keySeparator) {
        if (value instanceof Optional<?> optional) {
            value = optional.orElse(null);
        }
        if (value == null) {
            out.append("null");
        } else if (value instanceof CharSequence || value instanceof Character) {
            quote(out, value.toString());
        } else if (value instanceof Boolean) {
            out.append(value);
        } else if (value instanceof Double || value instanceof Float) {
            out.append(floatRepr(((Number) value).doubleValue()));
        } else if (value instanceof BigDecimal decimal) {
            out.append(floatRepr(decimal.doubleValue()));
        } else if (value instanceof Number) {
            out.append(value instanceof BigInteger ? value.toString() : Long.toString(((Number) value).longValue()));
        } else if (value instanceof Map<?, ?> map) {
            List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
            if (sortKeys) {
                entries.sort((a, b) -> key(a.getKey()).compareTo(key(b.getKey())));
            }
            if (entries.isEmpty()) {
                out.append("{}");
                return;
            }
            out.append('{');
            for (int i = 0; i < entries.size(); i++) {
                out.append(i > 0 ? itemSeparator : "");
                newline(out, depth + 1);
                quote(out, key(entries.get(i).getKey()));
                out.append(keySeparator);
                write(out, entries.get(i).getValue(), depth + 1, itemSeparator, keySeparator);
            }
            newline(out, depth);
            out.append('}');
        } else if (value instanceof Collection<?> || value instanceof Object[]) {
            Collection<?> items = value instanceof Collection<?> c ? c : List.of((Object[]) value);
            if (items.isEmpty()) {
                out.append("[]");
                return;
            }
            out.append('[');
            int i = 0;
            for (Object item : items) {
                out.append(i++ > 0 ? itemSeparator : "");
                newline(out, depth + 1);
                write(out, item, depth + 1, itemSeparator, keySeparator);
            }
            newline(out, depth);
            out.append(']');
        } else {
            throw new IllegalArgumentException("Object of type " + value.getClass().getSimpleName()
                    + " is not JSON serializable");
        }
    }

    private void newline(StringBuilder out, int depth) {
        if (indent != null) {
            out.append('\n').append(indent.repeat(depth));
        }
    }

    /** Python turns str, int, float, bool and None keys into strings; anything else is a TypeError. */
    private static String key(Object key) {
        if (key == null) {
            return "null";
        }
        if (key instanceof CharSequence || key instanceof Boolean || key instanceof Long || key instanceof Integer) {
            return key.toString();
        }
        if (key instanceof Double || key instanceof Float) {
            return floatRepr(((Number) key).doubleValue());
        }
        throw new IllegalArgumentException("keys must be str, int, float, bool or None, not "
                + key.getClass().getSimpleName());
    }

    private void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7F)) {
                        out.append(String.format("\\u%04x", (int) c)); // UTF-16 units, as Python writes astral pairs
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Python's float repr: shortest digits, exponent outside [1e-4, 1e16), "NaN" and "Infinity" as json.dumps. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal shortest = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        int exponent = shortest.precision() - shortest.scale() - 1; // position of the leading digit
        if (exponent >= -4 && exponent < 16) {
            String plain = shortest.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = shortest.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        String sign = shortest.signum() < 0 ? "-" : "";
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
}
