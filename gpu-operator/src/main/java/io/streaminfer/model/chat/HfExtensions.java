package io.streaminfer.model.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What Hugging Face adds to Jinja2 for chat templates, and what Jinjava lacks of Jinja2, as Jinjava extensions:
 * the {@code raise_exception} and {@code strftime_now} functions, the {@code tojson} filter with
 * {@code json.dumps}'s arguments, Python's {@code trim}, the {@code items} filter, the {@code {% generation %}}
 * block (rendered as its body), and an interpreter that stops at the first fatal error. Nothing here holds state.
 */
final class HfExtensions {
    private HfExtensions() {
    }

    /** Registers the functions, filters and tags on a Jinjava whose config came from {@code ChatTemplate}. */
    static void register(Jinjava jinjava) {
        Context global = jinjava.getGlobalContext();
        global.registerFunction(function("raise_exception", "raiseException", Object.class));
        global.registerFunction(function("strftime_now", "strftimeNow", String.class));
        global.registerFilter(new ToJson());
        global.registerFilter(new Trim());
        global.registerFilter(new Items());
        global.registerTag(new Generation());
    }

    /** The functions Hugging Face adds to Jinja2's globals. */
    static final List<String> FUNCTIONS = List.of("raise_exception", "strftime_now");

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
            return new ArrayList<>(map.entrySet());
        }
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
