package io.streaminfer.job.codec;

import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Arrays;
import org.apache.flink.types.Either;

/**
 * JSON Lines for offline runs: one PromptRecord or CompletionRecord per line, as plain JSON with the
 * record's field names. A line that does not parse becomes a dead letter naming the file, the line, the
 * reason and carrying the line's bytes; it never throws. A prompt that parses carries its origin (file,
 * line, bytes: {@link RecordOrigin}) in its metadata, for the dead letters decided later.
 */
public final class JsonLinesCodec {
    /** Longest line read as a record (below Jackson's 20 M-character string limit); longer ones are refused. */
    public static final int MAX_LINE_BYTES = 16 << 20;
    /** Bytes of a refused over-long line that its dead letter keeps. */
    static final int KEPT_BYTES_OF_LONG_LINE = 64 << 10;

    private final Clock clock;

    public JsonLinesCodec() {
        this(Clock.systemUTC());
    }

    public JsonLinesCodec(Clock clock) {
        this.clock = clock;
    }

    /** As {@link #parsePrompt(LineSplitter.Line, String)} for a line of text (tests, tools). */
    public Either<DeadLetterRecord, PromptRecord> parsePrompt(String line, String file, long lineNumber) {
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        return parsePrompt(new LineSplitter.Line(lineNumber, bytes, bytes.length), file);
    }

    /**
     * @param file where the line came from (for the dead letter)
     * @return Right(prompt, its origin in its metadata) or Left(dead letter)
     */
    public Either<DeadLetterRecord, PromptRecord> parsePrompt(LineSplitter.Line line, String file) {
        return parse(line, file, text -> Either.Right(PlainJson.parse(text, PromptRecord.class)));
    }

    /** Turns a line's text (valid UTF-8, one JSON value) into a prompt or a dead letter. */
    @FunctionalInterface
    public interface TextParser {
        Either<DeadLetterRecord, PromptRecord> parse(String text) throws InvalidRecordException;
    }

    /**
     * As {@link #parsePrompt(LineSplitter.Line, String)}, with another reading of the text (OpenAI batch
     * lines): the line's length, its UTF-8 and the reserved metadata keys are checked here, and a prompt
     * gets its origin.
     */
    public Either<DeadLetterRecord, PromptRecord> parse(LineSplitter.Line line, String file, TextParser parser) {
        byte[] bytes = line.bytes();
        if (line.truncated()) {
            return Either.Left(RecordOrigin.ofFile(file, line.number(), Arrays.copyOf(bytes,
                            Math.min(bytes.length, KEPT_BYTES_OF_LONG_LINE)))
                    .deadLetter(null, "the line is " + line.length() + " bytes long, more than the " + MAX_LINE_BYTES
                            + " a record may take (its dead letter keeps the first " + KEPT_BYTES_OF_LONG_LINE
                            + " bytes)", clock.instant()));
        }
        RecordOrigin origin = RecordOrigin.ofFile(file, line.number(), bytes);
        String text = null;
        try {
            text = decodeUtf8(bytes);
            Either<DeadLetterRecord, PromptRecord> parsed = parser.parse(text);
            if (parsed.isLeft()) {
                return parsed;
            }
            PromptRecord prompt = parsed.right();
            String reserved = JobMetadata.reservedKeyReason(prompt.getMetadata());
            if (reserved != null) {
                throw new InvalidRecordException(reserved);
            }
            return Either.Right(origin.attachTo(prompt));
        } catch (InvalidRecordException | RuntimeException e) {
            String reason = e instanceof InvalidRecordException ? e.getMessage()
                    : "could not read the line: " + AvroCodec.describe(e);
            return Either.Left(origin.deadLetter(text == null ? null : PlainJson.idOf(text), reason, clock.instant()));
        }
    }

    /**
     * {@code bytes} as UTF-8, refusing what is not: a replacement character would change the text (an id
     * the producer never sent), so undecodable bytes are the record's error, with their offset.
     */
    public static String decodeUtf8(byte[] bytes) throws InvalidRecordException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return decoder.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            int at = firstInvalidUtf8(bytes);
            throw new InvalidRecordException("the line is not valid UTF-8: byte 0x"
                    + String.format("%02X", bytes[at] & 0xff) + " at byte " + (at + 1) + " does not decode"
                    + " (JSON Lines files must be UTF-8)");
        }
    }

    /** The offset of the first byte where {@code bytes} stops being valid UTF-8 (0 if none is found). */
    static int firstInvalidUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(bytes.length + 1);
        java.nio.charset.CoderResult result = decoder.decode(in, out, true);
        return result.isError() ? in.position() : 0;
    }

    public CompletionRecord parseCompletion(String line) throws InvalidRecordException {
        return PlainJson.parse(line, CompletionRecord.class);
    }

    public static String toLine(PromptRecord prompt) {
        return PlainJson.toJsonLine(prompt);
    }

    public static String toLine(CompletionRecord completion) {
        return PlainJson.toJsonLine(completion);
    }

    public static String toLine(DeadLetterRecord deadLetter) {
        return PlainJson.toJsonLine(deadLetter);
    }
}
