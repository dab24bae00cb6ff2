package io.streaminfer.job.pipeline;

import io.streaminfer.engine.ModelDescription;
import io.streaminfer.job.codec.JsonLinesCodec;
import io.streaminfer.job.codec.LineSplitter;
import io.streaminfer.job.codec.OpenAiBatchRequests;
import io.streaminfer.job.codec.OpenAiBatchResponses;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.DeadLetterRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * The offline job's OpenAI batch mode: when the input's first non-blank line is an OpenAI batch request line
 * (it has a {@code custom_id}), every line is read as one ({@link OpenAiBatchRequests}) and every request gets
 * one answer line in {@code completions/} ({@link OpenAiBatchResponses}): the response, or the error of a line
 * that could not run. Dead letters are written to {@code dead-letters/} as well, with the line's bytes.
 */
final class OpenAiBatchFiles {
    private OpenAiBatchFiles() {}

    /** Whether the input's first non-blank line (in the first file that has one) is an OpenAI batch request line. */
    static boolean isBatchInput(List<Path> files) {
        for (Path file : files) {
            try (java.io.InputStream in = Files.newInputStream(file)) {
                LineSplitter lines = new LineSplitter(in, JsonLinesCodec.MAX_LINE_BYTES); // as the source splits
                for (LineSplitter.Line line = lines.next(); line != null; line = lines.next()) {
                    if (!line.blank()) {
                        return OpenAiBatchRequests.isRequestLine(new String(line.bytes(), StandardCharsets.UTF_8));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        return false;
    }

    /** The answer lines: one per completion and one per dead letter, in no particular order. */
    static DataStream<String> answers(DataStream<CompletionRecord> completions, DataStream<DeadLetterRecord> deadLetters,
                                      ModelDescription model, int parallelism) {
        DataStream<String> answered = completions.map(new AnswerLines(model), Types.STRING).setParallelism(parallelism)
                .name("openai-answer-lines");
        DataStream<String> refused = deadLetters.map(new ErrorLines(), Types.STRING).name("openai-error-lines");
        return answered.union(refused);
    }

    /** Completions as answer lines; the tokenizer (loaded per subtask) spells out log-probability tokens. */
    static final class AnswerLines extends RichMapFunction<CompletionRecord, String> {
        private static final long serialVersionUID = 1L;
        private final ModelDescription model;
        private transient OpenAiBatchResponses responses;

        AnswerLines(ModelDescription model) {
            this.model = model;
        }

        @Override
        public void open(OpenContext openContext) throws Exception {
            responses = new OpenAiBatchResponses(model.loadTokenizer(), Clock.systemUTC());
        }

        @Override
        public String map(CompletionRecord completion) {
            return responses.answer(completion);
        }
    }

    /** Dead letters as error lines. */
    static final class ErrorLines implements MapFunction<DeadLetterRecord, String> {
        private static final long serialVersionUID = 1L;
        private transient OpenAiBatchResponses responses;

        @Override
        public String map(DeadLetterRecord deadLetter) {
            if (responses == null) {
                responses = new OpenAiBatchResponses(null, Clock.systemUTC());
            }
            return responses.error(deadLetter);
        }
    }
}
