package io.streaminfer.model.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;

import java.lang.reflect.Method;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What Hugging Face adds to Jinja2 for chat templates, and what Jinjava lacks of Jinja2, as Jinjava extensions:
 * the {@code raise_exception}, {@code strftime_now} and {@code dict} functions, the filters of {@link HfFilters}, the
 * {@code {% generation %}} block (rendered as its body), and an interpreter that stops at the first fatal error.
 * Nothing here holds state.
 */
final class HfExtensions {
    private HfExtensions() {
    }

    /** Registers the functions, filters and tags on a Jinjava whose config came from {@code ChatTemplate}. */
    static void register(Jinjava jinjava) {
        Context global = jinjava.getGlobalContext();
        global.registerFunction(function("raise_exception", "raiseException", Object.class));
        global.registerFunction(function("strftime_now", "strftimeNow", String.class));
        global.registerFunction(function("dict", "dict", Object[].class));
        global.registerFunction(function(PY_EQ, "pythonEquals", Object.class, Object.class));
        HfFilters.register(global);
        global.registerTag(new Generation());
        global.registerTag(new Iteration());
    }

    /** Jinja2's global functions and those Hugging Face adds, which {@code is defined} finds. */
    static final List<String> FUNCTIONS = List.of("raise_exception", "strftime_now", "dict", "namespace", "range");

    /**
     * What a template sees under a function's name as a variable ({@code {% if strftime_now is defined %}}): Jinjava
     * calls the function either way.
     */
    record Builtin(String name) {
        @Override
        public String toString() {
            return "<built-in function " + name + ">";
        }
    }

    private static ELFunctionDefinition function(String name, String method, Class<?>... parameters) {
        try {
            Method target = HfExtensions.class.getDeclaredMethod(method, parameters);
            target.setAccessible(true); // this class is not public
            return new ELFunctionDefinition("", name, target);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the template raised, with its own message. */
    static final class TemplateRaised extends RuntimeException {
        TemplateRaised(String message) {
            super(message, null, false, false);
        }
    }

    /** A fatal error of the engine (an unknown filter, a type error), with Jinjava's message. */
    static final class TemplateFailed extends RuntimeException {
        TemplateFailed(String message, Throwable cause) {
            super(message, cause, false, false);
        }
    }

    /** {@code raise_exception(message)}: ends the render; ChatTemplate reports the message. */
    static Object raiseException(Object message) {
        throw new TemplateRaised(String.valueOf(message));
    }

    /** The function {@link TemplateSource} calls for {@code ==} with a boolean on one side. */
    static final String PY_EQ = "__py_eq";

    /** Python's {@code a == b}: numbers and booleans by value (True == 1), strings by text, else same type and equal. */
    static boolean pythonEquals(Object a, Object b) {
        if (a == null || b == null) {
            return a == b;
        }
        boolean numericA = a instanceof Number || a instanceof Boolean;
        boolean numericB = b instanceof Number || b instanceof Boolean;
        if (numericA || numericB) {
            return numericA && numericB && numeric(a) == numeric(b);
        }
        if ((a instanceof String || a instanceof SafeString) && (b instanceof String || b instanceof SafeString)) {
            return a.toString().equals(b.toString());
        }
        return a.equals(b);
    }

    private static double numeric(Object value) {
        return value instanceof Boolean bool ? (bool ? 1 : 0) : ((Number) value).doubleValue();
    }

    /** {@code dict(a=1, b=2)}, or {@code dict(mapping, c=3)}: a new mapping. */
    static Map<String, Object> dict(Object... parameters) {
        Map<String, Object> dict = new LinkedHashMap<>();
        for (Object parameter : parameters) {
            if (parameter instanceof NamedParameter named) {
                dict.put(named.getName(), named.getValue());
            } else if (parameter instanceof Map<?, ?> map) {
                map.forEach((key, value) -> dict.put(String.valueOf(key), value));
            } else {
                throw new IllegalArgumentException("dict() takes a mapping and keyword arguments, not "
                        + PythonMethods.typeName(parameter));
            }
        }
        return dict;
    }

    /** {@code strftime_now(format)}: the time of the ChatTemplate's clock, in its zone, C-locale names. */
    static String strftimeNow(String format) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        JinjavaConfig config = interpreter.getConfig();
        Instant now = Instant.ofEpochMilli(config.getDateTimeProvider().getCurrentTimeMillis());
        return strftime(ZonedDateTime.ofInstant(now, config.getTimeZone()), format);
    }

    /** Python's {@code strftime} for the directives templates use; others are kept as written, as glibc does. */
    static String strftime(ZonedDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            boolean unpadded = d == '-' && i + 1 < format.length(); // glibc's %-d
            if (unpadded) {
                d = format.charAt(++i);
            }
            String pad = unpadded ? "%d" : "%02d";
            switch (d) {
                case 'Y' -> out.append(t.getYear());
                case 'y' -> out.append(String.format(pad, t.getYear() % 100));
                case 'm' -> out.append(String.format(pad, t.getMonthValue()));
                case 'd' -> out.append(String.format(pad, t.getDayOfMonth()));
                case 'e' -> out.append(String.format("%2d", t.getDayOfMonth()));
                case 'j' -> out.append(String.format(unpadded ? "%d" : "%03d", t.getDayOfYear()));
                case 'H' -> out.append(String.format(pad, t.getHour()));
                case 'I' -> out.append(String.format(pad, (t.getHour() + 11) % 12 + 1));
                case 'M' -> out.append(String.format(pad, t.getMinute()));
                case 'S' -> out.append(String.format(pad, t.getSecond()));
                case 'p' -> out.append(t.getHour() < 12 ? "AM" : "PM");
                case 'b', 'h' -> out.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> out.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'F' -> out.append(t.format(DateTimeFormatter.ISO_LOCAL_DATE));
                case 'T' -> out.append(t.format(DateTimeFormatter.ofPattern("HH:mm:ss")));
                case '%' -> out.append('%');
                default -> out.append('%').append(unpadded ? "-" : "").append(d);
            }
        }
        return out.toString();
    }

    /** transformers' {@code {% generation %}...{% endgeneration %}} marks assistant text; it renders its body. */
    static final class Generation implements Tag {
        private static final long serialVersionUID = 1L;

        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String getEndTagName() {
            return "endgeneration";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            StringBuilder out = new StringBuilder();
            for (Node child : tagNode.getChildren()) {
                out.append(child.render(interpreter).getValue());
            }
            return out.toString();
        }
    }

    /**
     * The top scope of one render, under the Jinjava's shared global context (filters, tests, functions, tags): a
     * Context made without a parent would build every library again (most of a render's time), and one made under
     * the global would report every resolved name up into it, from every thread. This one keeps them.
     */
    static final class RenderScope extends Context {
        RenderScope(Context global, Map<String, ?> variables, Map<Library, Set<String>> disabled) {
            super(global, variables, disabled);
        }

        @Override
        public void addResolvedExpression(String expression) {
        }

        @Override
        public void addResolvedValue(String value) {
        }

        @Override
        public void addResolvedFunction(String function) {
        }
    }

    /**
     * {@code {% __iteration__ x, y %}}, which {@link TemplateSource} puts at the start of every loop body: Jinja2 gives
     * each iteration a fresh scope, Jinjava one scope to the whole loop, so what the last iteration set is dropped
     * here (all but {@code loop} and the loop variables), and names set outside the loop show through again.
     */
    static final class Iteration implements Tag {
        static final String NAME = "__iteration__";
        private static final long serialVersionUID = 1L;
        private static final Pattern NAMES = Pattern.compile("[\\s,()]+");

        @Override
        public String getName() {
            return NAME;
        }

        @Override
        public String getEndTagName() {
            return null;
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            Set<String> keep = new HashSet<>(List.of(NAMES.split(tagNode.getHelpers().trim())));
            keep.add("loop");
            interpreter.getContext().getScope().keySet().removeIf(name -> !keep.contains(name));
            return "";
        }
    }

    /** Makes {@link FailFastInterpreter}s. */
    static final class Interpreters implements InterpreterFactory {
        @Override
        public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
            return new FailFastInterpreter(orig);
        }

        @Override
        public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig renderConfig) {
            return new FailFastInterpreter(application, context, renderConfig);
        }
    }

    /**
     * Stops the render at the first fatal error, as Python does: Jinjava records most errors and renders on. What
     * {@code raise_exception} threw is rethrown as it is, any other fatal error as a {@link TemplateFailed}.
     */
    static final class FailFastInterpreter extends JinjavaInterpreter {
        FailFastInterpreter(Jinjava application, Context context, JinjavaConfig config) {
            super(application, context, config);
        }

        FailFastInterpreter(JinjavaInterpreter orig) {
            super(orig);
        }

        /** Strings print as they are: Jinjava's Python-style printer (kept for lists and dicts) escapes controls. */
        @Override
        public String getAsString(Object object) {
            if (object instanceof String s) {
                return s;
            }
            if (object instanceof SafeString s) {
                return s.getValue();
            }
            return super.getAsString(object);
        }

        @Override
        public void addError(TemplateError error) {
            if (error == null) {
                return;
            }
            for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                if (t instanceof TemplateRaised raised) {
                    throw raised;
                }
            }
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new TemplateFailed(error.getMessage(), error.getException());
            }
            super.addError(error);
        }
    }
}
