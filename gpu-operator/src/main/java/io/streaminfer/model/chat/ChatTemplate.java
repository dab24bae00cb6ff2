package io.streaminfer.model.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.tree.Node;
import io.streaminfer.model.chat.HfExtensions.TemplateFailed;
import io.streaminfer.model.chat.HfExtensions.TemplateRaised;
import jinjava.javax.el.CompositeELResolver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A model's chat template ({@code chat_template} of its tokenizer_config.json), rendered as Hugging Face's
 * {@code apply_chat_template(messages, tokenize=False)} renders it: Jinja2 with {@code trim_blocks} and
 * {@code lstrip_blocks}, the variables {@code messages}, {@code add_generation_prompt}, {@code tools} and
 * {@code documents} (none), the special tokens ({@code bos_token}, {@code eos_token}, ...) and the caller's extra
 * variables ({@code enable_thinking}, {@code date_string}, ...); {@code raise_exception}, {@code strftime_now},
 * {@code tojson} as {@code json.dumps}, and Python's string methods and slices.
 *
 * <p>The engine is Jinjava, parsed once here; {@link TemplateSource} rewrites what Jinjava cannot parse and
 * {@link PythonMethods} and {@link HfExtensions} add what it lacks. Immutable and safe to share between threads:
 * each render has its own interpreter and variables, and reads the shared parsed tree and libraries only. Nothing
 * is static but constants, so job classloaders can come and go. Not Serializable: a Flink function makes it in
 * {@code open()} from the model's tokenizer_config.json. A render of a few messages takes tens of microseconds.
 *
 * <p>Where it still differs from Python's Jinja2: an undefined name and {@code none} are one value to Jinjava, so
 * an undefined name in {@code +}, {@code .attr} or {@code ~} renders as empty where Jinja2 raises (a template that
 * needs a variable nobody passes renders instead of failing), {@code none} prints as "" and {@code x is none} holds
 * for a missing key; booleans print as true/false and {@code a and b} gives a boolean; {@code 'ab' * 2},
 * {@code str.format} and {@code %}-formatting are not there; text parts for a template that reads only strings are
 * joined by newlines (see {@link ChatMessage}).
 */
public final class ChatTemplate {
    /** Longest render accepted, in characters: a template in a loop must not fill the heap. */
    static final long MAX_OUTPUT_CHARS = 16L << 20;

    private static final List<String> SPECIAL_TOKENS = List.of(
            "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");
    /** A template that iterates a message's content or tests its type takes content as a list of parts. */
    private static final Pattern READS_PARTS = Pattern.compile(
            "for\\s+\\w+\\s+in\\s+\\w+(\\.content|\\[\\s*['\"]content['\"]\\s*])"
                    + "|content(['\"]\\s*])?\\s+is\\s+(not\\s+)?(string|iterable|sequence|mapping)"
                    + "|content(['\"]\\s*])?\\s*\\[\\s*0\\s*]\\s*\\[\\s*['\"](text|type)['\"]");

    private final String template;
    private final Map<String, String> specialTokens;
    private final boolean readsParts;
    private final JinjavaConfig config;
    private final Jinjava jinjava;
    private final Node root;

    private ChatTemplate(String template, Map<String, String> specialTokens, Clock clock) {
        this.template = Objects.requireNonNull(template, "template");
        this.specialTokens = Map.copyOf(specialTokens);
        this.readsParts = READS_PARTS.matcher(template).find();
        this.config = jinjavaConfig(Objects.requireNonNull(clock, "clock"));
        this.jinjava = new Jinjava(config);
        jinjava.setResourceLocator((name, charset, interpreter) -> {
            throw new IOException("a chat template cannot read other templates (" + name + ")");
        });
        HfExtensions.register(jinjava);
        TemplateSource.Rewritten rewritten = TemplateSource.rewrite(template);
        requireKnown(rewritten);
        this.root = parse(rewritten.source());
    }

    /** A template with its special tokens ({@code null} when the tokenizer has none, as Qwen's BOS). */
    public static ChatTemplate of(String template, String bosToken, String eosToken) {
        Map<String, String> tokens = new HashMap<>();
        if (bosToken != null) {
            tokens.put("bos_token", bosToken);
        }
        if (eosToken != null) {
            tokens.put("eos_token", eosToken);
        }
        return new ChatTemplate(template, tokens, Clock.systemDefaultZone());
    }

    /** The default template of a tokenizer_config.json (or of chat_template.jinja beside it). */
    public static ChatTemplate fromTokenizerConfig(Path tokenizerConfig) {
        return fromTokenizerConfig(tokenizerConfig, null);
    }

    /**
     * A template of a tokenizer_config.json: its {@code chat_template}, or, when that is a list of named
     * templates, the one called {@code templateName} ({@code null}: "default"). Without a {@code chat_template},
     * newer model directories keep it in chat_template.jinja or chat_template.json beside the file.
     */
    public static ChatTemplate fromTokenizerConfig(Path tokenizerConfig, String templateName) {
        try {
            ObjectMapper json = new ObjectMapper();
            JsonNode config = json.readTree(tokenizerConfig.toFile());
            if (!config.hasNonNull("chat_template") && config instanceof ObjectNode object) {
                Path dir = tokenizerConfig.toAbsolutePath().getParent();
                Path jinja = dir.resolve("chat_template.jinja");
                Path separate = dir.resolve("chat_template.json");
                if (Files.isRegularFile(jinja)) {
                    object.put("chat_template", Files.readString(jinja));
                } else if (Files.isRegularFile(separate)) {
                    object.set("chat_template", json.readTree(separate.toFile()).get("chat_template"));
                }
            }
            return fromTokenizerConfig(config, templateName, tokenizerConfig.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tokenizerConfig, e);
        }
    }

    /** A template of a parsed tokenizer_config.json; {@code origin} names it in messages. */
    public static ChatTemplate fromTokenizerConfig(JsonNode config, String templateName, String origin) {
        JsonNode chatTemplate = config.get("chat_template");
        if (chatTemplate == null || chatTemplate.isNull()) {
            throw new ChatTemplateException(origin + " has no chat_template: this model cannot render messages;"
                    + " send a prompt instead", null, null);
        }
        String template = chatTemplate.isTextual() ? chatTemplate.asText() : named(chatTemplate, templateName, origin);
        Map<String, String> tokens = new HashMap<>();
        for (String name : SPECIAL_TOKENS) {
            JsonNode token = config.get(name);
            JsonNode text = token != null && token.isObject() ? token.get("content") : token;
            if (text != null && text.isTextual()) {
                tokens.put(name, text.asText());
            }
        }
        return new ChatTemplate(template, tokens, Clock.systemDefaultZone());
    }

    private static String named(JsonNode templates, String templateName, String origin) {
        String wanted = templateName == null ? "default" : templateName;
        List<String> names = new ArrayList<>();
        for (JsonNode entry : templates) {
            String name = entry.path("name").asText();
            if (name.equals(wanted) && entry.path("template").isTextual()) {
                return entry.get("template").asText();
            }
            names.add(name);
        }
        throw new ChatTemplateException(origin + " has no chat template named \"" + wanted + "\"; it has "
                + names + (templateName == null ? ": name one" : ""), null, null);
    }

    /** The same template with {@code strftime_now} reading this clock (and its zone). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(template, specialTokens, clock);
    }

    /** The template as the model ships it. */
    public String source() {
        return template;
    }

    /** The special tokens the template sees, by variable name ({@code bos_token}, ...). */
    public Map<String, String> specialTokens() {
        return specialTokens;
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * The prompt text for a conversation.
     *
     * @param addGenerationPrompt end with the header of the assistant's turn
     * @param extraVariables      more template variables (strings, numbers, booleans, lists, maps, null); they
     *                            may override the special tokens but not {@code messages} or {@code add_generation_prompt}
     * @throws ChatTemplateException when the template raises (a conversation it does not accept) or fails on it
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extraVariables) {
        Map<String, Object> variables = new HashMap<>();
        variables.put("messages", templateMessages(messages));
        variables.put("add_generation_prompt", addGenerationPrompt);
        variables.put("tools", null);
        variables.put("documents", null);
        for (String function : HfExtensions.FUNCTIONS) {
            variables.put(function, new HfExtensions.Builtin(function)); // for "strftime_now is defined"
        }
        variables.putAll(specialTokens);
        extraVariables.forEach((name, value) -> {
            if (name.equals("messages") || name.equals("add_generation_prompt")) {
                throw new IllegalArgumentException("extra chat template variable \"" + name + "\" is set by render()");
            }
            variables.put(name, value);
        });
        Context context = new HfExtensions.RenderScope(jinjava.getGlobalContext(), variables, config.getDisabled());
        JinjavaInterpreter interpreter = config.getInterpreterFactory().newInstance(jinjava, context, config);
        try {
            return interpreter.render(root, false);
        } catch (RuntimeException e) {
            throw failure(e, "failed on the conversation");
        }
    }

    private List<Object> templateMessages(List<ChatMessage> messages) {
        List<Object> values = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage message = messages.get(i);
            Map<String, Object> value = new LinkedHashMap<>(message.toTemplateValue());
            if (message.parts() != null) {
                value.put("content", partsContent(message, i + 1));
            }
            values.add(value);
        }
        return values;
    }

    /**
     * Text parts go to a template that reads lists of parts as they are, and to any other joined by newlines (as
     * vLLM does for string-only templates); a part of another type cannot be rendered.
     */
    private Object partsContent(ChatMessage message, int number) {
        List<Object> parts = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (ChatMessage.Part part : message.parts()) {
            if (!part.type().equals("text") || part.text() == null) {
                throw new ChatTemplateException("message " + number + " (" + message.role() + ") has a content part"
                        + " of type \"" + part.type() + "\"; only text parts can be rendered", null, null);
            }
            Map<String, Object> value = new LinkedHashMap<>();
            value.put("type", "text");
            value.put("text", part.text());
            parts.add(value);
            texts.add(part.text());
        }
        return readsParts ? parts : String.join("\n", texts);
    }

    /** Jinja2 refuses a template that names an unknown filter or test; Jinjava would render it as nothing. */
    private void requireKnown(TemplateSource.Rewritten rewritten) {
        Context global = jinjava.getGlobalContext();
        for (String filter : rewritten.filters()) {
            if (global.getFilter(filter) == null) {
                throw new ChatTemplateException("the chat template does not parse: no filter named '" + filter + "'",
                        null, null);
            }
        }
        for (String test : rewritten.tests()) {
            if (global.getExpTest(test) == null) {
                throw new ChatTemplateException("the chat template does not parse: no test named '" + test + "'",
                        null, null);
            }
        }
    }

    private Node parse(String source) {
        JinjavaInterpreter interpreter = config.getInterpreterFactory()
                .newInstance(jinjava, jinjava.getGlobalContextCopy(), config);
        try {
            return interpreter.parse(source);
        } catch (RuntimeException e) {
            throw failure(e, "does not parse");
        }
    }

    private static ChatTemplateException failure(RuntimeException e, String what) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TemplateRaised raised) {
                return new ChatTemplateException("the chat template refused the conversation: " + raised.getMessage(),
                        raised.getMessage(), e);
            }
            if (t instanceof TemplateFailed failed) {
                return new ChatTemplateException("the chat template " + what + ": " + failed.getMessage(), null, e);
            }
        }
        return new ChatTemplateException("the chat template " + what + ": " + e, null, e);
    }

    private static JinjavaConfig jinjavaConfig(Clock clock) {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        return JinjavaConfig.newBuilder()
                .withTrimBlocks(false) // TemplateSource applies trim_blocks, lstrip_blocks and {%- -%} as Jinja2 does
                .withLstripBlocks(false)
                .withKeepTrailingNewline(true) // and drops the template's own trailing newline
                .withNestedInterpretationEnabled(false) // message text is never template code
                .withEnableRecursiveMacroCalls(true)
                .withMaxMacroRecursionDepth(64)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withElResolver(resolver)
                .withInterperterFactory(new HfExtensions.Interpreters())
                .withDateTimeProvider(clock::millis)
                .withTimeZone(clock.getZone())
                // Python's meanings. (No whitespace markers or comments reach Jinjava, so the whitespace overrides
                // ParseWhitespaceControlStrictly and UseTrimmingForNotesAndExpressions have nothing left to do.)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withIterateOverMapKeys(true) // for k in dict: its keys
                        .withUsePyishObjectMapper(true) // lists and dicts print as ['a', 1] and {'k': 'v'}
                        .withEvaluateMapKeys(true) // {k: v} takes the value of k
                        .withKeepNullableLoopValues(true) // a None item is None, not the outer variable
                        .withUseNaturalOperatorPrecedence(true)
                        .withHandleBackslashInQuotesOnly(true) // a backslash in text is text
                        .build())
                .build();
    }
}
