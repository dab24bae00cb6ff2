package io.streaminfer.job.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streaminfer.schemas.Choice;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.Message;
import io.streaminfer.schemas.PromptRecord;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.flink.types.Either;
import org.junit.jupiter.api.Test;

class OpenAiBatchTest {
    private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper();
    private final OpenAiBatchRequests requests = new OpenAiBatchRequests(CLOCK);
    private final OpenAiBatchResponses responses = new OpenAiBatchResponses(null, CLOCK);

    private PromptRecord prompt(String line) {
        Either<DeadLetterRecord, PromptRecord> out = requests.parse(line, "batch.jsonl", 3);
        assertTrue(out.isRight(), () -> out.left().getReason());
        return out.right();
    }

    private String reason(String line) {
        Either<DeadLetterRecord, PromptRecord> out = requests.parse(line, "batch.jsonl", 3);
        assertTrue(out.isLeft(), "expected a dead letter for " + line);
        assertEquals(line, StandardCharsets.UTF_8.decode(out.left().getOriginal()).toString(), "the line's bytes");
        return out.left().getReason();
    }

    @Test
    void chatLinesBecomeMessagesRecords() {
        PromptRecord p = prompt("{\"custom_id\": \"r1\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", \"body\": "
                + "{\"model\": \"m\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\","
                + " \"content\": [{\"type\": \"text\", \"text\": \"Hi\"}, {\"type\": \"text\", \"text\": \"there\"}]}],"
                + " \"max_completion_tokens\": 9, \"temperature\": 0, \"top_p\": 0.5, \"seed\": 7, \"stop\": \"\\n\","
                + " \"n\": 1, \"logprobs\": true, \"frequency_penalty\": 0, \"chat_template_kwargs\": {\"enable_thinking\": false}}}");
        assertEquals("r1", p.getId());
        assertEquals("m", p.getModel());
        assertEquals(List.of(new Message("system", "Be brief."), new Message("user", "Hi\nthere")), p.getMessages());
        assertEquals(9, p.getMaxTokens());
        assertEquals(0f, p.getTemperature());
        assertEquals(0.5f, p.getTopP());
        assertEquals(7L, p.getSeed());
        assertEquals(List.of("\n"), p.getStop());
        assertEquals(true, p.getLogprobs());
        assertEquals(Map.of("enable_thinking", false), p.getChatTemplateKwargs());
        assertEquals(OpenAiBatchRequests.CHAT_URL, p.getMetadata().get(OpenAiBatchRequests.URL_KEY));
        assertNull(p.getPrompt());
    }

    @Test
    void completionLinesTakeATextOrTokenPrompt() {
        PromptRecord text = prompt("{\"custom_id\": \"c1\", \"method\": \"POST\", \"url\": \"/v1/completions\", \"body\": "
                + "{\"model\": \"m\", \"prompt\": \"Once upon\", \"max_tokens\": 5, \"stop\": [\".\", \"!\"], \"logprobs\": 0}}");
        assertEquals("Once upon", text.getPrompt());
        assertEquals(List.of(".", "!"), text.getStop());
        assertEquals(true, text.getLogprobs());
        PromptRecord ids = prompt("{\"custom_id\": \"c2\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": [1, 42]}}");
        assertEquals(List.of(1, 42), ids.getPromptTokenIds());
        assertEquals("Once", prompt("{\"custom_id\": \"c3\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": [\"Once\"]}}")
                .getPrompt());
    }

    @Test
    void badLinesNameTheField() {
        assertTrue(reason("{\"custom_id\": \"x\", \"url\": \"/v1/embeddings\", \"body\": {}}").startsWith("url must be"));
        assertTrue(reason("{\"custom_id\": \"x\", \"method\": \"GET\", \"url\": \"/v1/completions\", \"body\": {}}")
                .startsWith("method must be POST"));
        assertTrue(reason("{\"custom_id\": \"x\", \"url\": \"/v1/chat/completions\", \"body\": {\"prompt\": \"a\"}}")
                .contains("body.prompt belongs to /v1/completions"));
        assertTrue(reason("{\"custom_id\": \"x\", \"url\": \"/v1/chat/completions\", \"body\": {}}")
                .contains("body.messages is missing"));
        assertTrue(reason("{\"custom_id\": \"x\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"a\", "
                + "\"presence_penalty\": 0.5}}").contains("body.presence_penalty is not supported (only 0)"));
        assertTrue(reason("{\"custom_id\": \"x\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"a\", "
                + "\"logprobs\": 5}}").contains("alternatives"));
        assertTrue(reason("{\"custom_id\": \"x\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": [\"a\", \"b\"]}}")
                .contains("holds 2 prompts"));
        assertTrue(reason("{\"custom_id\": \"x\", \"url\": \"/v1/chat/completions\", \"body\": {\"messages\": "
                + "[{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}}").contains("only text parts"));
        assertTrue(reason("{\"url\": \"/v1/completions\", \"body\": {\"prompt\": \"a\"}}").contains("custom_id is missing"));
        assertTrue(reason("{\"custom_id\": \"x\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"a\", "
                + "\"max_tokens\": 8, \"max_completion_tokens\": 9}}").contains("disagree (8 and 9)"));
        assertEquals(8, prompt("{\"custom_id\": \"x\", \"url\": \"/v1/completions\", \"body\": {\"prompt\": \"a\", "
                + "\"max_tokens\": 8, \"max_completion_tokens\": 8}}").getMaxTokens());
        DeadLetterRecord broken = requests.parse("{\"custom_id\": \"x\", ", "batch.jsonl", 3).left();
        assertTrue(broken.getReason().startsWith("the line ends inside the JSON"), broken.getReason());
        assertEquals("batch.jsonl", broken.getSourceFile());
        assertEquals(3L, broken.getSourceLine());
    }

    @Test
    void chatCompletionsAnswerAsChatCompletionObjects() throws Exception {
        CompletionRecord c = CompletionRecord.newBuilder().setId("r1").setStatus(CompletionStatus.OK)
                .setFinishReason("stop").setText("Hello!").setTokenIds(List.of(5, 6)).setPromptTokens(11)
                .setCompletionTokens(2).setLogprobs(List.of(-0.5f, -1.25f)).setModel("m")
                .setMetadata(Map.of(OpenAiBatchRequests.URL_KEY, OpenAiBatchRequests.CHAT_URL)).build();
        JsonNode line = JSON.readTree(responses.answer(c));
        assertEquals("r1", line.get("custom_id").asText());
        assertTrue(line.get("id").asText().startsWith("batch_req_"));
        assertTrue(line.get("error").isNull());
        JsonNode response = line.get("response");
        assertEquals(200, response.get("status_code").asInt());
        JsonNode body = response.get("body");
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals(NOW.getEpochSecond(), body.get("created").asLong());
        assertEquals("m", body.get("model").asText());
        JsonNode choice = body.get("choices").get(0);
        assertEquals("assistant", choice.get("message").get("role").asText());
        assertEquals("Hello!", choice.get("message").get("content").asText());
        assertEquals("stop", choice.get("finish_reason").asText());
        assertEquals(-1.25, choice.get("logprobs").get("content").get(1).get("logprob").asDouble());
        assertEquals("token_id:6", choice.get("logprobs").get("content").get(1).get("token").asText());
        assertEquals(JSON.readTree("{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13}"), body.get("usage"));
        assertEquals(line.get("id").asText(), JSON.readTree(responses.answer(c)).get("id").asText(), "ids are stable");
    }

    @Test
    void completionsAnswerAsTextCompletionObjectsWithEveryChoice() throws Exception {
        CompletionRecord c = CompletionRecord.newBuilder().setId("c1").setStatus(CompletionStatus.OK)
                .setFinishReason("length").setText("a").setTokenIds(List.of(5)).setPromptTokens(3).setModel("m")
                .setChoices(List.of(new Choice(0, "a", List.of(5), "length", null),
                        new Choice(1, "bc", List.of(6, 7), "stop", null)))
                .setMetadata(Map.of(OpenAiBatchRequests.URL_KEY, OpenAiBatchRequests.COMPLETIONS_URL)).build();
        JsonNode body = JSON.readTree(responses.answer(c)).get("response").get("body");
        assertEquals("text_completion", body.get("object").asText());
        assertEquals("bc", body.get("choices").get(1).get("text").asText());
        assertEquals("stop", body.get("choices").get(1).get("finish_reason").asText());
        assertTrue(body.get("choices").get(0).get("logprobs").isNull());
        assertEquals(3, body.get("usage").get("completion_tokens").asInt());
    }

    @Test
    void deadLettersAndFailedCompletionsAnswerWithAnError() throws Exception {
        DeadLetterRecord d = requests.parse("{\"custom_id\": \"bad\", \"url\": \"/v1/x\", \"body\": {}}", "f", 1).left();
        JsonNode line = JSON.readTree(responses.error(d));
        assertEquals("bad", line.get("custom_id").asText());
        assertTrue(line.get("response").isNull());
        assertEquals("invalid_request", line.get("error").get("code").asText());
        assertTrue(line.get("error").get("message").asText().startsWith("url must be"));
        CompletionRecord failed = CompletionRecord.newBuilder().setId("f1").setStatus(CompletionStatus.ERROR)
                .setFinishReason("error").setError("replica failed").build();
        JsonNode failure = JSON.readTree(responses.answer(failed));
        assertEquals("generation_failed", failure.get("error").get("code").asText());
        assertEquals("replica failed", failure.get("error").get("message").asText());
    }
}
