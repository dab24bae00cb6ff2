package io.streaminfer.job.codec;

import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import org.apache.flink.types.Either;

/**
 * JSON Lines for offline runs: one PromptRecord or CompletionRecord per line, as plain JSON with the
 * record's field names. A line that does not parse becomes a dead letter naming the file, the line and
 * the reason; it never throws.
 */
public final class JsonLinesCodec {
    private final Clock clock;

    public JsonLinesCodec() {
        this(Clock.systemUTC());
    }

    public JsonLinesCodec(Clock clock) {
        this.clock = clock;
    }

    /**
     * @param file where the line came from (for the dead letter)
     * @param lineNumber 1-based
     * @return Right(prompt) or Left(dead letter)
     */
    public Either<DeadLetterRecord, PromptRecord> parsePrompt(String line, String file, long lineNumber) {
        try {
            return Either.Right(PlainJson.parse(line, PromptRecord.class));
        } catch (InvalidRecordException | RuntimeException e) {
            String reason = e instanceof InvalidRecordException ? e.getMessage()
                    : "could not read the line: " + AvroCodec.describe(e);
            return Either.Left(DeadLetters.fromFile(line == null ? null : PlainJson.idOf(line), reason,
                    line == null ? null : line.getBytes(StandardCharsets.UTF_8), file, lineNumber, clock.instant()));
        }
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
