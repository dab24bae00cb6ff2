package io.streaminfer.model.chat;

import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.objects.collections.PyList;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Answers Python method calls that Jinjava would look up as Java methods: {@code str} methods on strings
 * ({@code .strip('\n')}, {@code .startswith(...)}, {@code .split(...)}, ...) and the slice calls that
 * {@link TemplateSource} writes for {@code x[a:b:c]} ({@code x.__slice__(a, b, c)}), on strings and lists, and
 * {@code dict.items()} as pairs.
 * Placed before Jinjava's resolvers; everything else falls through to them. Stateless.
 */
final class PythonMethods extends ELResolver {
    static final String SLICE = "__slice__";

    private static final Set<String> STRING_METHODS = Set.of(
            "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "title", "upper",
            "lower", "capitalize", "replace", "find", "rfind", "count", "join", "isspace", "isdigit", "isalpha",
            "isalnum", "islower", "isupper", SLICE);

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (base == null || method == null) {
            return null;
        }
        String name = method.toString();
        Object[] args = params == null ? new Object[0] : params;
        Object result;
        if (base instanceof String || base instanceof SafeString) {
            if (!STRING_METHODS.contains(name)) {
                return null;
            }
            result = stringMethod(base.toString(), name, args);
        } else if (name.equals("items") && base instanceof Map<?, ?> map && args.length == 0) {
            result = pairs(map);
        } else if (SLICE.equals(name) && (base instanceof List<?> || base instanceof Object[])) {
            List<?> list = base instanceof List<?> l ? l : List.of((Object[]) base);
            result = Slices.slice(list, index(args, 0), index(args, 1), index(args, 2));
        } else {
            return null;
        }
        context.setPropertyResolved(true);
        return result;
    }

    /** {@code dict.items()}: (key, value) pairs that a loop unpacks and {@code item[0]} indexes. */
    static List<PyList> pairs(Map<?, ?> map) {
        List<PyList> pairs = new ArrayList<>(map.size());
        map.forEach((key, value) -> pairs.add(new PyList(new ArrayList<>(Arrays.asList(key, value)))));
        return pairs;
    }

    private static Object stringMethod(String s, String name, Object[] args) {
        return switch (name) {
            case "strip" -> PythonStrings.strip(s, optionalString(args, 0, "chars"));
            case "lstrip" -> PythonStrings.lstrip(s, optionalString(args, 0, "chars"));
            case "rstrip" -> PythonStrings.rstrip(s, optionalString(args, 0, "chars"));
            case "split" -> PythonStrings.split(s, optionalString(args, 0, "sep"), integer(args, 1, "maxsplit", -1));
            case "rsplit" -> PythonStrings.rsplit(s, optionalString(args, 0, "sep"), integer(args, 1, "maxsplit", -1));
            case "splitlines" -> splitlines(s);
            case "startswith" -> affix(s, args, true);
            case "endswith" -> affix(s, args, false);
            case "title" -> PythonStrings.title(s);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "capitalize" -> PythonStrings.capitalize(s);
            case "replace" -> PythonStrings.replace(s, requiredString(args, 0, "replace"),
                    requiredString(args, 1, "replace"), integer(args, 2, "count", -1));
            case "find" -> codePointIndex(s, s.indexOf(requiredString(args, 0, "find")));
            case "rfind" -> codePointIndex(s, s.lastIndexOf(requiredString(args, 0, "rfind")));
            case "count" -> count(s, requiredString(args, 0, "count"));
            case "join" -> join(s, args);
            case "isspace" -> !s.isEmpty() && s.codePoints().allMatch(PythonStrings::isSpace);
            case "isdigit" -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "islower" -> s.codePoints().anyMatch(Character::isLowerCase) && s.equals(s.toLowerCase(Locale.ROOT));
            case "isupper" -> s.codePoints().anyMatch(Character::isUpperCase) && s.equals(s.toUpperCase(Locale.ROOT));
            case SLICE -> PythonStrings.slice(s, index(args, 0), index(args, 1), index(args, 2));
            default -> throw new IllegalStateException(name);
        };
    }

    /** Python's {@code splitlines()}: no empty string after a final line break, none at all for "". */
    private static List<String> splitlines(String s) {
        List<String> lines = List.of(s.split("\r\n|[\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029]", -1));
        return s.isEmpty() ? List.of() : lines.get(lines.size() - 1).isEmpty() ? lines.subList(0, lines.size() - 1) : lines;
    }

    private static boolean affix(String s, Object[] args, boolean prefix) {
        Object arg = args.length > 0 ? value(args[0]) : null;
        Collection<?> candidates = arg instanceof Collection<?> c ? c : Collections.singletonList(arg);
        for (Object candidate : candidates) {
            if (!(candidate instanceof String) && !(candidate instanceof SafeString)) {
                throw new IllegalArgumentException((prefix ? "startswith" : "endswith")
                        + " first arg must be str or a tuple of str, not " + typeName(candidate));
            }
            String affix = candidate.toString();
            if (prefix ? s.startsWith(affix) : s.endsWith(affix)) {
                return true;
            }
        }
        return false;
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) {
            return PythonStrings.length(s) + 1;
        }
        int n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    private static String join(String separator, Object[] args) {
        Object items = args.length > 0 ? value(args[0]) : null;
        if (!(items instanceof Iterable<?> iterable)) {
            throw new IllegalArgumentException("can only join an iterable, not " + typeName(items));
        }
        StringBuilder out = new StringBuilder();
        boolean first = true;
        for (Object item : iterable) {
            if (!(item instanceof String) && !(item instanceof SafeString)) {
                throw new IllegalArgumentException("sequence item: expected str instance, " + typeName(item) + " found");
            }
            out.append(first ? "" : separator).append(item);
            first = false;
        }
        return out.toString();
    }

    private static int codePointIndex(String s, int charIndex) {
        return charIndex < 0 ? -1 : s.codePointCount(0, charIndex);
    }

    private static Object value(Object arg) {
        return arg instanceof NamedParameter named ? named.getValue() : arg;
    }

    /** Positional argument {@code i}, or the keyword argument of that name, or {@code null}. */
    private static Object argument(Object[] args, int i, String keyword) {
        for (Object arg : args) {
            if (arg instanceof NamedParameter named && named.getName().equals(keyword)) {
                return named.getValue();
            }
        }
        return i < args.length && !(args[i] instanceof NamedParameter) ? args[i] : null;
    }

    private static String optionalString(Object[] args, int i, String keyword) {
        Object arg = argument(args, i, keyword);
        if (arg != null && !(arg instanceof String) && !(arg instanceof SafeString)) {
            throw new IllegalArgumentException(keyword + " must be str or None, not " + typeName(arg));
        }
        return arg == null ? null : arg.toString();
    }

    private static String requiredString(Object[] args, int i, String method) {
        Object arg = i < args.length ? value(args[i]) : null;
        if (!(arg instanceof String) && !(arg instanceof SafeString)) {
            throw new IllegalArgumentException(method + "() argument " + (i + 1) + " must be str, not " + typeName(arg));
        }
        return arg.toString();
    }

    private static int integer(Object[] args, int i, String keyword, int absent) {
        Object arg = argument(args, i, keyword);
        if (arg == null) {
            return absent;
        }
        if (!(arg instanceof Number number)) {
            throw new IllegalArgumentException(keyword + " must be an integer, not " + typeName(arg));
        }
        return number.intValue();
    }

    private static Integer index(Object[] args, int i) {
        Object arg = i < args.length ? value(args[i]) : null;
        if (arg == null) {
            return null;
        }
        if (!(arg instanceof Number number)) {
            throw new IllegalArgumentException("slice indices must be integers or None, not " + typeName(arg));
        }
        return number.intValue();
    }

    static String typeName(Object value) {
        if (value == null) {
            return "NoneType";
        }
        if (value instanceof String || value instanceof SafeString) {
            return "str";
        }
        if (value instanceof Map<?, ?>) {
            return "dict";
        }
        if (value instanceof List<?>) {
            return "list";
        }
        if (value instanceof Boolean) {
            return "bool";
        }
        if (value instanceof Long || value instanceof Integer) {
            return "int";
        }
        return value instanceof Number ? "float" : value.getClass().getSimpleName();
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
