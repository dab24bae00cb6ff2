package io.streaminfer.job.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.Message;
import io.streaminfer.schemas.PromptRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.flink.types.Either;
import org.junit.jupiter.api.Test;

class JsonLinesCodecTest {
    private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
    private final JsonLinesCodec codec = new JsonLinesCodec(Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void parsesThePlainJsonExample() {
        Either<DeadLetterRecord, PromptRecord> out =
                codec.parsePrompt("{\"id\":\"a1\",\"prompt\":\"Once upon a time\",\"max_tokens\":64,\"temperature\":0}", "in.jsonl", 1);
        assertTrue(out.isRight(), () -> out.left().getReason());
        PromptRecord p = out.right();
        assertEquals("a1", p.getId());
        assertEquals("Once upon a time", p.getPrompt());
        assertEquals(64, p.getMaxTokens());
        assertEquals(0f, p.getTemperature());
        assertNull(p.getTopP(), "absent fields take the schema default");
        assertEquals(Map.of(), RecordOrigin.strip(p.getMetadata()), "no metadata but the line's origin");
        RecordOrigin origin = RecordOrigin.of(p.getMetadata());
        assertEquals("in.jsonl", origin.file());
        assertEquals(1L, origin.line());
    }

    @Test
    void messagesAndTemplateVariablesReadFromPlainJson() {
        Either<DeadLetterRecord, PromptRecord> out = codec.parsePrompt("{\"id\":\"c1\",\"messages\":[{\"role\":\"system\","
                + "\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi\"}],\"chat_template_kwargs\":"
                + "{\"enable_thinking\":false,\"depth\":2,\"ratio\":0.5,\"name\":\"x\",\"none\":null},\"n\":1}", "in.jsonl", 1);
        assertTrue(out.isRight(), () -> out.left().getReason());
        PromptRecord p = out.right();
        assertEquals(List.of(new Message("system", "Be brief."), new Message("user", "Hi")), p.getMessages());
        Map<String, Object> kwargs = new java.util.HashMap<>();
        kwargs.put("enable_thinking", false);
        kwargs.put("depth", 2L);
        kwargs.put("ratio", 0.5);
        kwargs.put("name", "x");
        kwargs.put("none", null);
        assertEquals(kwargs, p.getChatTemplateKwargs());
        p.setMetadata(RecordOrigin.strip(p.getMetadata())); // what the producer wrote, without the job's origin
        PromptRecord again = codec.parsePrompt(JsonLinesCodec.toLine(p), "f", 1).right();
        again.setMetadata(RecordOrigin.strip(again.getMetadata()));
        assertEquals(p, again, JsonLinesCodec.toLine(p));
        assertEquals(1, codec.parsePrompt("{\"id\":\"d\",\"prompt\":\"x\"}", "f", 1).right().getN(), "n defaults to 1");
    }

    @Test
    void badMessagesNameTheField() {
        assertTrue(codec.parsePrompt("{\"id\":\"c\",\"messages\":[{\"role\":\"user\"}]}", "f", 1).left().getReason()
                .contains("messages[0].content"));
        assertTrue(codec.parsePrompt("{\"id\":\"c\",\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"nam\":1}]}",
                "f", 1).left().getReason().contains("unknown field \"messages[0].nam\""));
        assertTrue(codec.parsePrompt("{\"id\":\"c\",\"chat_template_kwargs\":{\"a\":[1]}}", "f", 1).left().getReason()
                .contains("chat_template_kwargs.a"));
    }

    @Test
    void everyFieldRoundTrips() {
        PromptRecord p = PromptRecord.newBuilder().setId("b").setKey("k").setPromptTokenIds(List.of(1, 2, 3))
                .setTarget("t").setMaxTokens(3).setTemperature(0.5f).setTopP(0.9f).setTopK(40).setSeed(-5L)
                .setStop(List.of("x", "y")).setLogprobs(true).setModel("m").setMetadata(Map.of("a", "b"))
                .setCreatedAt(Instant.ofEpochMilli(1234)).build();
        String line = JsonLinesCodec.toLine(p);
        assertTrue(line.contains("\"prompt_token_ids\":[1,2,3]"), line);
        assertTrue(line.contains("\"created_at\":1234"), line);
        PromptRecord parsed = codec.parsePrompt(line, "f", 1).right();
        parsed.setMetadata(RecordOrigin.strip(parsed.getMetadata()));
        assertEquals(p, parsed);
    }

    @Test
    void completionRoundTrips() throws Exception {
        CompletionRecord c = CompletionRecord.newBuilder().setId("a1").setStatus(CompletionStatus.ERROR)
                .setFinishReason("error").setError("boom").setLogprobs(List.of(-0.5f)).setScore(-1.25).build();
        String line = JsonLinesCodec.toLine(c);
        assertTrue(line.contains("\"status\":\"ERROR\""), line);
        assertEquals(c, codec.parseCompletion(line));
    }

    @Test
    void deadLetterBytesAreBase64() {
        DeadLetterRecord dl = DeadLetters.fromFile(null, "r", "{x".getBytes(StandardCharsets.UTF_8), "f", 2, NOW);
        assertTrue(JsonLinesCodec.toLine(dl).contains("\"original\":\"e3g=\""), JsonLinesCodec.toLine(dl));
    }

    @Test
    void malformedLinesBecomeDeadLettersNamingTheProblem() {
        assertReason("{\"id\":\"a1\",\"prompt\":", "the line ends inside the JSON", null);
        assertReason("", "empty line", null);
        assertReason("[1,2]", "expected a JSON object", null);
        assertReason("{\"prompt\":\"p\"}", "missing required field \"id\"", null);
        assertReason("{\"id\":\"a2\",\"prompt\":\"p\",\"max_token\":5}", "unknown field \"max_token\"", "a2");
        assertReason("{\"id\":\"a3\",\"max_tokens\":\"many\"}", "field \"max_tokens\" must be an integer", "a3");
        assertReason("{\"id\":\"a4\",\"max_tokens\":1.5}", "field \"max_tokens\" must be an integer", "a4");
        assertReason("{\"id\":\"a5\",\"stop\":[\"a\",3]}", "field \"stop[1]\" must be a string", "a5");
        assertReason("{\"id\":\"a6\",\"metadata\":null}", "field \"metadata\" must not be null", "a6");
        assertReason("{\"id\":7}", "field \"id\" must be a string", null);
        assertReason("{\"id\":\"a7\",\"id\":\"a8\"}", "field \"id\" appears twice", null);
    }

    private void assertReason(String line, String expected, String id) {
        Either<DeadLetterRecord, PromptRecord> out = codec.parsePrompt(line, "in.jsonl", 9);
        assertTrue(out.isLeft(), "expected a dead letter for " + line);
        DeadLetterRecord dl = out.left();
        assertTrue(dl.getReason().contains(expected), dl.getReason());
        assertEquals("in.jsonl", dl.getSourceFile());
        assertEquals(9L, dl.getSourceLine());
        assertEquals(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)), dl.getOriginal());
        assertEquals(id, dl.getId());
    }
}
