package io.streaminfer.job.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.apache.flink.types.Either;
import org.junit.jupiter.api.Test;

/** The odd lines a new user's file holds: each gets one answer naming the mistake, and valid ones run. */
class JsonLinesInputTest {
    private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
    private final JsonLinesCodec codec = new JsonLinesCodec(Clock.fixed(NOW, ZoneOffset.UTC));

    private PromptRecord prompt(String line) {
        Either<DeadLetterRecord, PromptRecord> out = codec.parsePrompt(line, "in.jsonl", 3);
        assertTrue(out.isRight(), () -> out.left().getReason());
        return out.right();
    }

    private DeadLetterRecord dead(byte[] line) {
        Either<DeadLetterRecord, PromptRecord> out = codec.parsePrompt(new LineSplitter.Line(4, line, line.length), "in.jsonl");
        assertTrue(out.isLeft(), () -> "expected a dead letter for " + new String(line, StandardCharsets.UTF_8));
        DeadLetterRecord dl = out.left();
        assertEquals("in.jsonl", dl.getSourceFile());
        assertEquals(4L, dl.getSourceLine());
        assertEquals(ByteBuffer.wrap(line), dl.getOriginal(), "the line's own bytes");
        return dl;
    }

    private String reason(String line) {
        return dead(line.getBytes(StandardCharsets.UTF_8)).getReason();
    }

    @Test
    void aBareCrInsideARecordIsWhiteSpace() throws IOException {
        byte[] file = "{\"id\":\"c\",\r\"prompt\":\"x\"}\r\n".getBytes(StandardCharsets.UTF_8);
        LineSplitter.Line line = new LineSplitter(new ByteArrayInputStream(file), 100).next();
        Either<DeadLetterRecord, PromptRecord> out = codec.parsePrompt(line, "f");
        assertTrue(out.isRight(), () -> out.left().getReason());
        assertEquals("x", out.right().getPrompt());
    }

    @Test
    void aByteOrderMarkDoesNotSpoilTheFirstLine() throws IOException {
        byte[] file = "\uFEFF{\"id\":\"b\",\"prompt\":\"x\"}\n".getBytes(StandardCharsets.UTF_8);
        Either<DeadLetterRecord, PromptRecord> out = codec.parsePrompt(
                new LineSplitter(new ByteArrayInputStream(file), 100).next(), "f");
        assertTrue(out.isRight(), () -> out.left().getReason());
        assertEquals("b", out.right().getId());
    }

    @Test
    void contentAfterTheObjectIsNamed() {
        String two = reason("{\"id\":\"a\",\"prompt\":\"x\"} {\"id\":\"b\",\"prompt\":\"y\"}");
        assertTrue(two.contains("more than one JSON value") && two.contains("{\"id\":\"b\""), two);
        assertTrue(two.contains("column 25"), two);
        String garbage = reason("{\"id\":\"a\",\"prompt\":\"x\"}xyz");
        assertTrue(garbage.contains("`xyz`"), garbage);
        assertTrue(reason("{\"id\":\"a\",\"prompt\":\"x\"},").contains("`,`"));
        assertEquals("a", prompt("{\"id\":\"a\",\"prompt\":\"x\"}  \t ").getId(), "trailing white space is fine");
    }

    @Test
    void undecodableTextIsRefusedNotReplaced() {
        byte[] line = {'{', '"', 'i', 'd', '"', ':', '"', 'a', (byte) 0xC3, '(', '"', ',', '"', 'p', 'r', 'o', 'm', 'p',
                't', '"', ':', '"', 'x', '"', '}'};
        DeadLetterRecord dl = dead(line);
        assertEquals("the line is not valid UTF-8: byte 0xC3 at byte 9 does not decode (JSON Lines files must be UTF-8)",
                dl.getReason());
        assertNull(dl.getId(), "no id the producer never sent");
        // a U+FFFD the producer wrote is text like any other
        assertEquals("a\uFFFD", prompt("{\"id\":\"a\uFFFD\",\"prompt\":\"x\"}").getId());
    }

    @Test
    void unknownTopLevelFieldsBecomeMetadataAndTyposDoNot() {
        PromptRecord p = prompt("{\"id\":\"a\",\"prompt\":\"x\",\"label\":\"pos\",\"category\":3,\"tags\":[\"t\"],"
                + "\"metadata\":{\"run\":\"r1\"}}");
        assertEquals(Map.of("run", "r1", "label", "pos", "category", "3", "tags", "[\"t\"]"), RecordOrigin.strip(p.getMetadata()));
        assertEquals("unknown field \"max_token\" in PromptRecord: did you mean \"max_tokens\"?",
                reason("{\"id\":\"a\",\"prompt\":\"x\",\"max_token\":5}"));
        assertTrue(reason("{\"id\":\"a\",\"prompt\":\"x\",\"topP\":0.5}").contains("did you mean \"top_p\""));
        assertTrue(reason("{\"id\":\"a\",\"prompt\":\"x\",\"Temperature\":0}").contains("\"temperature\""));
        assertTrue(reason("{\"id\":\"a\",\"prompt\":\"x\",\"label\":\"a\",\"metadata\":{\"label\":\"b\"}}")
                .contains("\"label\" is given both"));
        // known fields keep their types
        assertTrue(reason("{\"id\":\"a\",\"prompt\":\"x\",\"max_tokens\":\"many\"}").startsWith("field \"max_tokens\" must be"));
        assertTrue(reason("{\"id\":\"a\",\"prompt\":\"x\",\"metadata\":{\"n\":1}}").startsWith("field \"metadata.n\" must be a string"));
        assertTrue(reason("{\"id\":\"a\",\"prompt\":\"x\",\"metadata\":{\"streaminfer.origin.line\":\"1\"}}")
                .contains("is reserved"));
    }

    @Test
    void messagesNameTheMistakeNotTheParser() {
        String nan = reason("{\"id\":\"a\",\"prompt\":\"x\",\"temperature\":NaN}");
        assertTrue(nan.startsWith("NaN is not a JSON number at column"), nan);
        String inf = reason("{\"id\":\"a\",\"prompt\":\"x\",\"temperature\":-Infinity}");
        assertTrue(inf.startsWith("-Infinity is not a JSON number"), inf);
        assertEquals("field \"temperature\" is 1e999, too large for a 32-bit float",
                reason("{\"id\":\"a\",\"prompt\":\"x\",\"temperature\":1e999}"));
        assertEquals("field \"top_p\" is 1e-999, too small for a 32-bit float",
                reason("{\"id\":\"a\",\"prompt\":\"x\",\"top_p\":1e-999}"));
        String digits = reason("{\"id\":\"a\",\"prompt\":\"x\",\"seed\":" + "9".repeat(1200) + "}");
        assertTrue(digits.startsWith("a number of 1200 characters"), digits);
        String control = reason("{\"id\":\"a\",\"prompt\":\"x\ty\"}");
        assertTrue(control.startsWith("a control character (code 9) inside a string"), control);
        assertTrue(reason("{\"id\":\"a\",\"prompt\":\"x").startsWith("the line ends inside the JSON string"));
        String bom = reason("\uFEFF{\"id\":\"a\",\"prompt\":\"x\"}"); // a BOM past the file's first line
        assertTrue(bom.startsWith("a byte-order mark (U+FEFF, invisible) at column 1"), bom);
        String bad = reason("{\"id\":\"a\" \"prompt\":\"x\"}");
        assertTrue(bad.startsWith("malformed JSON at column"), bad);
        for (String r : new String[] {nan, inf, digits, control, bom, bad}) {
            assertFalse(r.contains("`") || r.contains("Feature") || r.contains("Constraints") || r.contains("Exception"), r);
        }
    }

    @Test
    void aLineOverTheLimitKeepsItsStartAndSaysHowLongItWas() {
        byte[] start = new byte[JsonLinesCodec.MAX_LINE_BYTES];
        java.util.Arrays.fill(start, (byte) 'x');
        Either<DeadLetterRecord, PromptRecord> out = codec.parsePrompt(
                new LineSplitter.Line(7, start, JsonLinesCodec.MAX_LINE_BYTES + 10L), "big.jsonl");
        DeadLetterRecord dl = out.left();
        assertEquals(7L, dl.getSourceLine());
        assertTrue(dl.getReason().startsWith("the line is " + (JsonLinesCodec.MAX_LINE_BYTES + 10L) + " bytes long"), dl.getReason());
        assertEquals(JsonLinesCodec.KEPT_BYTES_OF_LONG_LINE, dl.getOriginal().remaining());
    }

    @Test
    void aPromptCarriesItsOriginUntilItIsAnswered() {
        String line = "{\"id\":\"a\",\"prompt\":\"x\"}";
        RecordOrigin origin = RecordOrigin.of(prompt(line).getMetadata());
        assertEquals("in.jsonl", origin.file());
        assertEquals(3L, origin.line());
        assertArrayEquals(line.getBytes(StandardCharsets.UTF_8), origin.original());
        DeadLetterRecord late = origin.deadLetter("a", "late", NOW);
        assertEquals(3L, late.getSourceLine());
        assertEquals(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)), late.getOriginal());
    }
}
