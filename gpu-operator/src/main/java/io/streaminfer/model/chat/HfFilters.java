package io.streaminfer.model.chat;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.objects.SafeString;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Filters and tests as Hugging Face's Jinja2 has them, where Jinjava's differ or are missing: {@code tojson} with
 * {@code json.dumps}'s arguments, Python's {@code trim} and {@code round}, {@code items}, {@code max}, {@code min};
 * the tests {@code iterable} and {@code sequence}, which are true of strings and mappings in Python.
 */
final class HfFilters {
    private HfFilters() {
    }

    static void register(Context global) {
        global.registerFilter(new ToJson());
        global.registerFilter(new Trim());
        global.registerFilter(new Items());
        global.registerFilter(new Extreme(true));
        global.registerFilter(new Extreme(false));
        global.registerFilter(new Round());
        global.registerExpTest(new PythonTest("iterable", HfFilters::isIterable));
        global.registerExpTest(new PythonTest("sequence", HfFilters::isSequence));
    }

    /** Jinja2's {@code iterable}: what Python can iterate, strings and mappings included (Jinjava's says no to both). */
    static boolean isIterable(Object value) {
        return value instanceof Iterable<?> || value instanceof Map<?, ?> || value instanceof Object[]
                || value instanceof String || value instanceof SafeString;
    }

    /** Jinja2's {@code sequence}: what has a length and items, strings and mappings included. */
    static boolean isSequence(Object value) {
        return value instanceof Collection<?> || isIterable(value) && !(value instanceof Iterable<?>);
    }

    /** A test of one value, with Python's meaning. */
    record PythonTest(String name, Predicate<Object> test) implements ExpTest {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return test.test(var);
        }
    }

    /**
     * {@code tojson(indent=None, ensure_ascii=False, separators=None, sort_keys=False)}, positionally or by name:
     * Hugging Face's filter, which is Python's {@code json.dumps} (Jinjava's own writes compact JSON).
     */
    static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = argument(args, kwargs, 0, "indent");
            Object ensureAscii = argument(args, kwargs, 1, "ensure_ascii");
            Object separators = argument(args, kwargs, 2, "separators");
            Object sortKeys = argument(args, kwargs, 3, "sort_keys");
            String indentText = indent == null ? null
                    : indent instanceof Number n ? " ".repeat(Math.max(0, n.intValue())) : indent.toString();
            List<String> separatorPair = null;
            if (separators instanceof List<?> pair && pair.size() == 2) {
                separatorPair = List.of(String.valueOf(pair.get(0)), String.valueOf(pair.get(1)));
            }
            return new PythonJson(Boolean.TRUE.equals(ensureAscii), indentText, separatorPair,
                    Boolean.TRUE.equals(sortKeys)).dumps(var);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PythonJson.DEFAULT.dumps(var);
        }

        private static Object argument(Object[] args, Map<String, Object> kwargs, int i, String name) {
            return kwargs.containsKey(name) ? kwargs.get(name) : i < args.length ? args[i] : null;
        }
    }

    /** {@code trim(chars=None)}: Python's {@code str.strip} (Jinjava's trims ASCII control characters only). */
    static final class Trim implements Filter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object chars = kwargs.containsKey("chars") ? kwargs.get("chars") : args.length > 0 ? args[0] : null;
            if (var instanceof SafeString safe) {
                return new SafeString(PythonStrings.strip(safe.getValue(), chars == null ? null : chars.toString()));
            }
            return PythonStrings.strip(var == null ? "" : interpreter.getAsString(var),
                    chars == null ? null : chars.toString());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public boolean preserveSafeString() {
            return false;
        }
    }

    /** {@code items}: a mapping's (key, value) pairs, for {@code {% for k, v in d | items %}}. */
    static final class Items implements Filter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (var == null) {
                return List.of();
            }
            if (!(var instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException("Can only get item pairs from a mapping, not "
                        + PythonMethods.typeName(var));
            }
            return PythonMethods.pairs(map);
        }
    }

    /**
     * {@code max} and {@code min} (Jinjava has neither): of a list, optionally of an {@code attribute} of its items;
     * strings compare without case unless {@code case_sensitive}.
     */
    static final class Extreme implements Filter {
        private final boolean max;

        Extreme(boolean max) {
            this.max = max;
        }

        @Override
        public String getName() {
            return max ? "max" : "min";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            boolean caseSensitive = Boolean.TRUE.equals(kwargs.getOrDefault("case_sensitive", args.length > 0 ? args[0] : false));
            Object attribute = kwargs.getOrDefault("attribute", args.length > 1 ? args[1] : null);
            if (!(var instanceof Iterable<?> items)) {
                throw new IllegalArgumentException("'" + PythonMethods.typeName(var) + "' object is not iterable");
            }
            Object best = null;
            Object bestKey = null;
            for (Object item : items) {
                Object key = attribute == null ? item : item instanceof Map<?, ?> m ? m.get(attribute.toString()) : null;
                key = !caseSensitive && key instanceof String text ? text.toLowerCase(Locale.ROOT) : key;
                if (best == null || compare(key, bestKey) * (max ? 1 : -1) > 0) {
                    best = item;
                    bestKey = key;
                }
            }
            return best;
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private static int compare(Object a, Object b) {
            if (a instanceof Number x && b instanceof Number y) {
                return Double.compare(x.doubleValue(), y.doubleValue());
            }
            if (a instanceof Comparable c && b != null && a.getClass() == b.getClass()) {
                return c.compareTo(b);
            }
            throw new IllegalArgumentException("'<' not supported between " + PythonMethods.typeName(a) + " and "
                    + PythonMethods.typeName(b));
        }
    }

    /**
     * {@code round(value, precision=0, method='common')}: 'common' is Python's {@code round} (half to even on the exact
     * value; an int stays an int), 'ceil' and 'floor' give floats. Jinjava's rounds half up and returns ints.
     */
    static final class Round implements Filter {
        @Override
        public String getName() {
            return "round";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object precisionArg = kwargs.getOrDefault("precision", args.length > 0 ? args[0] : 0);
            int precision = precisionArg instanceof Number n ? n.intValue() : Integer.parseInt(precisionArg.toString());
            String method = String.valueOf(kwargs.getOrDefault("method", args.length > 1 ? args[1] : "common"));
            if (!(var instanceof Number number)) {
                throw new IllegalArgumentException("round() needs a number, not " + PythonMethods.typeName(var));
            }
            if (method.equals("common") && (number instanceof Long || number instanceof Integer) && precision >= 0) {
                return number;
            }
            RoundingMode mode = switch (method) {
                case "common" -> RoundingMode.HALF_EVEN;
                case "ceil" -> RoundingMode.CEILING;
                case "floor" -> RoundingMode.FLOOR;
                default -> throw new IllegalArgumentException("method must be common, ceil or floor");
            };
            return new BigDecimal(number.doubleValue()).setScale(precision, mode).doubleValue();
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }
    }
}
