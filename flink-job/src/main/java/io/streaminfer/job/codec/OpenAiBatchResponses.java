package io.streaminfer.job.codec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streaminfer.job.convert.SeedDerivation;
import io.streaminfer.model.TextTokenizer;
import io.streaminfer.schemas.Choice;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import io.streaminfer.schemas.DeadLetterRecord;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Locale;

/**
 * Output lines of an OpenAI batch file, one per request line, as the OpenAI Batch API and {@code vllm run-batch}
 * write them: {@code {"id", "custom_id", "response": {"status_code": 200, "request_id", "body"}, "error": null}},
 * the body a {@code chat.completion} or {@code text_completion} object (after the request line's url) with
 * {@code usage}. A request that could not run (a dead letter) or failed in the engine (an ERROR completion) gets
 * {@code "response": null} and {@code "error": {"code", "message"}}. Ids are derived from the custom_id, so a
 * rerun writes the same ids; {@code created} is when the line was written. Not thread-safe when the tokenizer is
 * not (ours are): one per subtask.
 */
public final class OpenAiBatchResponses {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final TextTokenizer tokenizer;
    private final Clock clock;

    /** @param tokenizer spells out the tokens of log-probabilities; null gives them as ids ("token_id:5") */
    public OpenAiBatchResponses(TextTokenizer tokenizer, Clock clock) {
        this.tokenizer = tokenizer;
        this.clock = clock;
    }

    /** The answer line of a completion: its response, or its error. */
    public String answer(CompletionRecord c) {
        if (c.getStatus() != CompletionStatus.OK) {
            return errorLine(c.getId(), c.getId(), "generation_failed", c.getError());
        }
        boolean chat = OpenAiBatchRequests.CHAT_URL.equals(c.getMetadata().get(OpenAiBatchRequests.URL_KEY));
        String hex = hex(c.getId());
        ObjectNode body = MAPPER.createObjectNode();
        body.put("id", (chat ? "chatcmpl-" : "cmpl-") + hex);
        body.put("object", chat ? "chat.completion" : "text_completion");
        body.put("created", clock.instant().getEpochSecond());
        body.put("model", c.getModel());
        ArrayNode choices = body.putArray("choices");
        List<Choice> all = c.getChoices() != null && !c.getChoices().isEmpty() ? c.getChoices()
                : List.of(new Choice(0, c.getText(), c.getTokenIds(), c.getFinishReason(), c.getLogprobs()));
        int completionTokens = 0;
        for (Choice choice : all) {
            ObjectNode out = choices.addObject();
            out.put("index", choice.getIndex());
            if (chat) {
                out.putObject("message").put("role", "assistant").put("content", choice.getText());
            } else {
                out.put("text", choice.getText());
            }
            if (choice.getLogprobs() == null) {
                out.putNull("logprobs");
            } else if (chat) {
                out.set("logprobs", chatLogprobs(choice));
            } else {
                out.set("logprobs", completionLogprobs(choice));
            }
            out.put("finish_reason", choice.getFinishReason());
            completionTokens += choice.getTokenIds().size();
        }
        body.putObject("usage").put("prompt_tokens", c.getPromptTokens()).put("completion_tokens", completionTokens)
                .put("total_tokens", c.getPromptTokens() + completionTokens);
        ObjectNode line = MAPPER.createObjectNode();
        line.put("id", "batch_req_" + hex);
        line.put("custom_id", c.getId());
        line.putObject("response").put("status_code", 200).put("request_id", "req_" + hex).set("body", body);
        line.putNull("error");
        return write(line);
    }

    /** The answer line of a request line that could not run. */
    public String error(DeadLetterRecord d) {
        String seed = d.getId() != null ? d.getId()
                : d.getSourceFile() + ":" + d.getSourceLine() + ":" + d.getReason();
        return errorLine(d.getId(), seed, "invalid_request", d.getReason());
    }

    private String errorLine(String customId, String idSeed, String code, String message) {
        ObjectNode line = MAPPER.createObjectNode();
        line.put("id", "batch_req_" + hex(idSeed));
        line.put("custom_id", customId);
        line.putNull("response");
        line.putObject("error").put("code", code).put("message", message);
        return write(line);
    }

    /** Chat's shape: {@code {"content": [{"token", "logprob", "bytes", "top_logprobs": []}]}}. */
    private ObjectNode chatLogprobs(Choice choice) {
        ObjectNode logprobs = MAPPER.createObjectNode();
        ArrayNode content = logprobs.putArray("content");
        for (int i = 0; i < choice.getTokenIds().size(); i++) {
            String token = token(choice.getTokenIds().get(i));
            ObjectNode entry = content.addObject().put("token", token).put("logprob", choice.getLogprobs().get(i));
            ArrayNode bytes = entry.putArray("bytes");
            for (byte b : token.getBytes(StandardCharsets.UTF_8)) {
                bytes.add(b & 0xFF);
            }
            entry.putArray("top_logprobs");
        }
        return logprobs;
    }

    /** Completions' shape: {@code {"tokens", "token_logprobs", "top_logprobs": null, "text_offset"}}. */
    private ObjectNode completionLogprobs(Choice choice) {
        ObjectNode logprobs = MAPPER.createObjectNode();
        ArrayNode tokens = logprobs.putArray("tokens");
        ArrayNode values = logprobs.putArray("token_logprobs");
        logprobs.putNull("top_logprobs");
        ArrayNode offsets = logprobs.putArray("text_offset");
        int offset = 0;
        for (int i = 0; i < choice.getTokenIds().size(); i++) {
            String token = token(choice.getTokenIds().get(i));
            tokens.add(token);
            values.add(choice.getLogprobs().get(i));
            offsets.add(offset);
            offset += token.length();
        }
        return logprobs;
    }

    private String token(int id) {
        return tokenizer == null ? "token_id:" + id : tokenizer.decode(new int[] {id});
    }

    private static String hex(String seed) {
        return String.format(Locale.ROOT, "%016x", SeedDerivation.seedFromId(seed));
    }

    private static String write(ObjectNode line) {
        try {
            return MAPPER.writeValueAsString(line);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write an OpenAI batch line", e);
        }
    }
}
