package io.streaminfer.job.codec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.Message;
import io.streaminfer.schemas.PromptRecord;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.types.Either;

/**
 * Input lines of an OpenAI batch file, as the OpenAI Batch API and {@code vllm run-batch} take them:
 * {@code {"custom_id", "method": "POST", "url": "/v1/chat/completions" | "/v1/completions", "body": {...}}}.
 * Each becomes a PromptRecord: {@code custom_id} is its id, the body's {@code messages} or {@code prompt} its
 * prompt, {@code model} the model it must match, and {@code max_tokens} (or {@code max_completion_tokens}),
 * {@code temperature}, {@code top_p}, {@code top_k}, {@code seed}, {@code stop}, {@code n}, {@code logprobs} and
 * {@code chat_template_kwargs} its parameters; {@link #URL_KEY} in its metadata remembers the endpoint, which
 * shapes the answer ({@link OpenAiBatchResponses}). A line that cannot become a request becomes a dead letter
 * naming the field; a body parameter the engine does not have is refused by name, unless it asks for what the
 * engine does anyway ({@code frequency_penalty: 0}, {@code stream: false}, ...). Thread-safe.
 */
public final class OpenAiBatchRequests {
    public static final String CHAT_URL = "/v1/chat/completions";
    public static final String COMPLETIONS_URL = "/v1/completions";
    /** Metadata key of the endpoint a request line named; the answer line takes that endpoint's shape. */
    public static final String URL_KEY = "openai.url";

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
    private static final Set<String> LINE_FIELDS = Set.of("custom_id", "method", "url", "body");
    /** Body fields that change nothing when they have these values (what clients send by default). */
    private static final Map<String, JsonNode> NEUTRAL = Map.of(
            "frequency_penalty", MAPPER.getNodeFactory().numberNode(0),
            "presence_penalty", MAPPER.getNodeFactory().numberNode(0),
            "repetition_penalty", MAPPER.getNodeFactory().numberNode(1),
            "stream", MAPPER.getNodeFactory().booleanNode(false),
            "echo", MAPPER.getNodeFactory().booleanNode(false),
            "top_logprobs", MAPPER.getNodeFactory().numberNode(0));

    private final Clock clock;

    public OpenAiBatchRequests() {
        this(Clock.systemUTC());
    }

    public OpenAiBatchRequests(Clock clock) {
        this.clock = clock;
    }

    /** Whether a JSON line is an OpenAI batch request line (it has a {@code custom_id}). */
    public static boolean isRequestLine(String line) {
        try {
            JsonNode node = MAPPER.readTree(line);
            return node != null && node.isObject() && node.has("custom_id");
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    /**
     * @param lineNumber 1-based, or -1 when unknown
     * @return Right(prompt) or Left(dead letter naming the field, with the line's bytes)
     */
    public Either<DeadLetterRecord, PromptRecord> parse(String line, String file, long lineNumber) {
        String customId = null;
        try {
            JsonNode node = PlainJson.readValue(line); // one JSON value; errors in the writer's terms
            if (node == null || !node.isObject()) {
                throw new InvalidRecordException("expected a JSON object (an OpenAI batch request line)");
            }
            JsonNode id = node.get("custom_id");
            customId = id != null && id.isTextual() ? id.textValue() : null;
            return Either.Right(toPrompt(node));
        } catch (InvalidRecordException e) {
            return Either.Left(DeadLetters.fromFile(customId, e.getMessage(),
                    line == null ? null : line.getBytes(StandardCharsets.UTF_8), file, lineNumber, clock.instant()));
        }
    }

    private static PromptRecord toPrompt(JsonNode line) throws InvalidRecordException {
        for (Iterator<String> names = line.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!LINE_FIELDS.contains(name)) {
                throw new InvalidRecordException("unknown field \"" + name + "\" in an OpenAI batch request line"
                        + " (it has custom_id, method, url and body)");
            }
        }
        String customId = text(line, "custom_id", true);
        if (customId.isBlank()) {
            throw new InvalidRecordException("custom_id must not be empty");
        }
        String method = text(line, "method", false);
        if (method != null && !method.equals("POST")) {
            throw new InvalidRecordException("method must be POST, got " + method);
        }
        String url = text(line, "url", true);
        if (!url.equals(CHAT_URL) && !url.equals(COMPLETIONS_URL)) {
            throw new InvalidRecordException("url must be " + CHAT_URL + " or " + COMPLETIONS_URL + ", got " + url);
        }
        JsonNode body = line.get("body");
        if (body == null || !body.isObject()) {
            throw new InvalidRecordException("body must be a JSON object with the request");
        }
        boolean chat = url.equals(CHAT_URL);
        PromptRecord.Builder prompt = PromptRecord.newBuilder().setId(customId)
                .setMetadata(new HashMap<>(Map.of(URL_KEY, url)));
        for (Iterator<Map.Entry<String, JsonNode>> fields = body.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            bodyField(prompt, chat, field.getKey(), field.getValue());
        }
        if (chat && !prompt.hasMessages()) {
            throw new InvalidRecordException("body.messages is missing: " + CHAT_URL + " takes a list of messages");
        }
        if (!chat && !prompt.hasPrompt() && !prompt.hasPromptTokenIds()) {
            throw new InvalidRecordException("body.prompt is missing: " + COMPLETIONS_URL + " takes a prompt");
        }
        return prompt.build();
    }

    private static void bodyField(PromptRecord.Builder p, boolean chat, String name, JsonNode value)
            throws InvalidRecordException {
        String path = "body." + name;
        if (value.isNull() && !name.equals("messages") && !name.equals("prompt")) {
            return; // an explicit null is the default
        }
        switch (name) {
            case "model" -> p.setModel(textValue(value, path));
            case "messages" -> {
                requireEndpoint(chat, true, path);
                p.setMessages(messages(value));
            }
            case "prompt" -> {
                requireEndpoint(chat, false, path);
                prompt(p, value);
            }
            case "max_tokens", "max_completion_tokens" -> {
                int maxTokens = intValue(value, path);
                // both given (the older name and the newer): the same limit, or it is unclear which one holds
                if (p.hasMaxTokens() && p.getMaxTokens() != maxTokens) {
                    throw new InvalidRecordException("body.max_tokens and body.max_completion_tokens disagree ("
                            + p.getMaxTokens() + " and " + maxTokens + "): give one of them");
                }
                p.setMaxTokens(maxTokens);
            }
            case "temperature" -> p.setTemperature(number(value, path));
            case "top_p" -> p.setTopP(number(value, path));
            case "top_k" -> p.setTopK(intValue(value, path) < 0 ? 0 : intValue(value, path)); // vLLM: -1 is off
            case "seed" -> {
                if (!value.isIntegralNumber() || !value.canConvertToLong()) {
                    throw mismatch(path, "an integer", value);
                }
                p.setSeed(value.longValue());
            }
            case "stop" -> p.setStop(stops(value, path));
            case "n" -> p.setN(intValue(value, path));
            case "logprobs" -> p.setLogprobs(logprobs(chat, value, path));
            case "chat_template_kwargs" -> {
                requireEndpoint(chat, true, path);
                p.setChatTemplateKwargs(templateVariables(value, path));
            }
            case "user" -> { } // who asked: nothing to do with the answer
            default -> {
                JsonNode neutral = NEUTRAL.get(name);
                if (neutral == null || !sameValue(value, neutral)) {
                    throw new InvalidRecordException(path + " is not supported" + (neutral == null ? ""
                            : " (only " + neutral + ")") + "; the body takes model, messages or prompt, max_tokens,"
                            + " temperature, top_p, top_k, seed, stop, n, logprobs and chat_template_kwargs");
                }
            }
        }
    }

    /** Equal JSON values, numbers by value (0, 0.0 and 0e0 are one). */
    private static boolean sameValue(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        return a.equals(b);
    }

    private static void requireEndpoint(boolean chat, boolean wantChat, String path) throws InvalidRecordException {
        if (chat != wantChat) {
            throw new InvalidRecordException(path + " belongs to " + (wantChat ? CHAT_URL : COMPLETIONS_URL)
                    + ", not to " + (chat ? CHAT_URL : COMPLETIONS_URL));
        }
    }

    /** Messages with string content, or content as a list of text parts (joined by newlines). */
    private static List<Message> messages(JsonNode value) throws InvalidRecordException {
        if (!value.isArray()) {
            throw mismatch("body.messages", "a list of {\"role\", \"content\"}", value);
        }
        List<Message> messages = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            String path = "body.messages[" + i + "]";
            JsonNode m = value.get(i);
            if (!m.isObject()) {
                throw mismatch(path, "an object with role and content", m);
            }
            for (Iterator<String> names = m.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!name.equals("role") && !name.equals("content") && !name.equals("name")) {
                    throw new InvalidRecordException(path + "." + name + " is not supported (messages take role and "
                            + "content; tool calls are not)");
                }
            }
            String role = text(m, "role", true, path + ".role");
            messages.add(new Message(role, content(m.get("content"), path + ".content")));
        }
        return messages;
    }

    private static String content(JsonNode content, String path) throws InvalidRecordException {
        if (content == null || content.isNull()) {
            throw new InvalidRecordException(path + " is missing");
        }
        if (content.isTextual()) {
            return content.textValue();
        }
        if (!content.isArray()) {
            throw mismatch(path, "a string or a list of text parts", content);
        }
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < content.size(); i++) {
            JsonNode part = content.get(i);
            if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                throw new InvalidRecordException(path + "[" + i + "] must be {\"type\": \"text\", \"text\": ...}; "
                        + "only text parts can be rendered");
            }
            texts.add(part.get("text").textValue());
        }
        return String.join("\n", texts);
    }

    /** A string, a list of one string, or a list of token ids. */
    private static void prompt(PromptRecord.Builder p, JsonNode value) throws InvalidRecordException {
        if (value.isTextual()) {
            p.setPrompt(value.textValue());
            return;
        }
        if (value.isArray() && value.size() == 1 && value.get(0).isTextual()) {
            p.setPrompt(value.get(0).textValue());
            return;
        }
        if (value.isArray() && value.size() > 0 && value.get(0).isIntegralNumber()) {
            List<Integer> ids = new ArrayList<>(value.size());
            for (int i = 0; i < value.size(); i++) {
                ids.add(intValue(value.get(i), "body.prompt[" + i + "]"));
            }
            p.setPromptTokenIds(ids);
            return;
        }
        if (value.isArray() && value.size() > 1) {
            throw new InvalidRecordException("body.prompt holds " + value.size() + " prompts; a batch line takes one"
                    + " (give each its own line and custom_id)");
        }
        throw mismatch("body.prompt", "a string or a list of token ids", value);
    }

    private static List<String> stops(JsonNode value, String path) throws InvalidRecordException {
        if (value.isTextual()) {
            return List.of(value.textValue());
        }
        if (!value.isArray()) {
            throw mismatch(path, "a string or a list of strings", value);
        }
        List<String> stops = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) {
            stops.add(textValue(value.get(i), path + "[" + i + "]"));
        }
        return stops;
    }

    /** Chat: true or false. Completions: 0, the sampled tokens' log-probabilities (no alternatives). */
    private static boolean logprobs(boolean chat, JsonNode value, String path) throws InvalidRecordException {
        if (chat) {
            if (!value.isBoolean()) {
                throw mismatch(path, "true or false", value);
            }
            return value.booleanValue();
        }
        if (!value.isIntegralNumber()) {
            throw mismatch(path, "an integer", value);
        }
        if (value.intValue() != 0) {
            throw new InvalidRecordException(path + " = " + value.intValue() + " asks for the most likely alternatives"
                    + " of each token, which are not supported yet; 0 gives the sampled tokens' log-probabilities");
        }
        return true;
    }

    private static Map<String, Object> templateVariables(JsonNode value, String path) throws InvalidRecordException {
        if (!value.isObject()) {
            throw mismatch(path, "an object", value);
        }
        Map<String, Object> variables = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            Object converted;
            if (v.isNull()) {
                converted = null;
            } else if (v.isBoolean()) {
                converted = v.booleanValue();
            } else if (v.isIntegralNumber() && v.canConvertToLong()) {
                converted = v.longValue();
            } else if (v.isNumber()) {
                converted = v.doubleValue();
            } else if (v.isTextual()) {
                converted = v.textValue();
            } else {
                throw mismatch(path + "." + e.getKey(), "a boolean, number, string or null", v);
            }
            variables.put(e.getKey(), converted);
        }
        return variables;
    }

    private static String text(JsonNode node, String name, boolean required) throws InvalidRecordException {
        return text(node, name, required, name);
    }

    private static String text(JsonNode node, String name, boolean required, String path)
            throws InvalidRecordException {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            if (required) {
                throw new InvalidRecordException(path + " is missing");
            }
            return null;
        }
        return textValue(value, path);
    }

    private static String textValue(JsonNode value, String path) throws InvalidRecordException {
        if (!value.isTextual()) {
            throw mismatch(path, "a string", value);
        }
        return value.textValue();
    }

    private static int intValue(JsonNode value, String path) throws InvalidRecordException {
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw mismatch(path, "an integer (32-bit)", value);
        }
        return value.intValue();
    }

    private static float number(JsonNode value, String path) throws InvalidRecordException {
        if (!value.isNumber()) {
            throw mismatch(path, "a number", value);
        }
        return value.floatValue();
    }

    private static InvalidRecordException mismatch(String path, String expected, JsonNode got) {
        String shown = got.toString();
        if (shown.length() > 40) {
            shown = shown.substring(0, 37) + "...";
        }
        return new InvalidRecordException(path + " must be " + expected + ", got " + shown);
    }
}
