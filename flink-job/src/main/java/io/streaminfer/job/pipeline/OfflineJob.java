package io.streaminfer.job.pipeline;

import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.job.JobOptions;
import io.streaminfer.job.codec.JsonLinesCodec;
import io.streaminfer.job.codec.RecordTypes;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.formats.avro.AvroWriters;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.types.Either;

/**
 * Offline scoring: a bounded FileSource of JSON Lines (or Avro container files) of prompts, the same
 * inference pipeline in batch execution mode, and FileSinks under the output directory:
 * {@code completions/} and {@code dead-letters/}, in the input's format family. JSON Lines whose first line is
 * an OpenAI batch request line are an OpenAI batch file, answered line for line ({@link OpenAiBatchFiles}). The
 * job ends when the input does.
 */
public final class OfflineJob {
    public static final String COMPLETIONS_DIR = "completions";
    public static final String DEAD_LETTERS_DIR = "dead-letters";

    private OfflineJob() {}

    public static void build(StreamExecutionEnvironment env, Configuration conf) {
        ReplicaConfig replica = EngineSettings.replicaConfig(conf);
        ModelDescription model = InferencePipeline.describe(replica);
        int dp = conf.get(JobOptions.DATA_PARALLELISM);
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        String input = conf.get(JobOptions.INPUT_PATH);
        org.apache.flink.core.fs.Path inputPath = new org.apache.flink.core.fs.Path(Path.of(input).toUri());
        org.apache.flink.core.fs.Path output = new org.apache.flink.core.fs.Path(Path.of(conf.get(JobOptions.OUTPUT_PATH)).toUri());
        boolean avro = isAvro(Path.of(input));
        boolean openAi = !avro && OpenAiBatchFiles.isBatchInput(files(Path.of(input)));
        long total = countRecords(Path.of(input), avro);

        DataStream<Either<DeadLetterRecord, PromptRecord>> prompts;
        if (avro) {
            prompts = env.fromSource(FileSource.forRecordStreamFormat(new AvroContainerFormat<>(PromptRecord.class),
                                    inputPath).build(), WatermarkStrategy.noWatermarks(), "prompt-files")
                    .map(Either::<DeadLetterRecord, PromptRecord>Right, RecordTypes.promptOrDeadLetter())
                    .name("as-prompts");
        } else {
            prompts = env.fromSource(FileSource.forRecordStreamFormat(new TextLineInputFormat(), inputPath).build(),
                            WatermarkStrategy.noWatermarks(), "prompt-files")
                    .filter(line -> !line.isBlank()).name("skip-blank-lines")
                    .map(openAi ? new OpenAiBatchFiles.ParseLine(input) : new ParseJsonLine(input),
                            RecordTypes.promptOrDeadLetter()).name(openAi ? "parse-openai-batch-lines" : "parse-json-lines");
        }
        InferencePipeline.Outputs outputs = InferencePipeline.attach(prompts, replica, model, dp);
        DataStream<CompletionRecord> completions = outputs.completions()
                .map(new ProgressReporter(total), RecordTypes.completion()).setParallelism(dp).name("progress");

        if (avro) {
            completions.sinkTo(FileSink.forBulkFormat(new org.apache.flink.core.fs.Path(output, COMPLETIONS_DIR),
                            AvroWriters.forSpecificRecord(CompletionRecord.class))
                    .withBucketAssigner(new BasePathBucketAssigner<>()).withOutputFileConfig(fileNames("completions", ".avro")).build()).setParallelism(dp)
                    .name("completions-files");
            outputs.deadLetters().sinkTo(FileSink.forBulkFormat(new org.apache.flink.core.fs.Path(output, DEAD_LETTERS_DIR),
                            AvroWriters.forSpecificRecord(DeadLetterRecord.class))
                    .withBucketAssigner(new BasePathBucketAssigner<>()).withOutputFileConfig(fileNames("dead-letters", ".avro")).build()).name("dead-letter-files");
        } else {
            DataStream<String> answers = openAi ? OpenAiBatchFiles.answers(completions, outputs.deadLetters(), model, dp)
                    : completions.map(JsonLinesCodec::toLine, Types.STRING).setParallelism(dp).name("completion-lines");
            answers
                    .sinkTo(FileSink.forRowFormat(new org.apache.flink.core.fs.Path(output, COMPLETIONS_DIR),
                                    new SimpleStringEncoder<String>("UTF-8"))
                            .withBucketAssigner(new BasePathBucketAssigner<>()).withOutputFileConfig(fileNames("completions", ".jsonl")).build()).setParallelism(dp)
                    .name("completions-files");
            outputs.deadLetters().map(JsonLinesCodec::toLine, Types.STRING).name("dead-letter-lines")
                    .sinkTo(FileSink.forRowFormat(new org.apache.flink.core.fs.Path(output, DEAD_LETTERS_DIR),
                                    new SimpleStringEncoder<String>("UTF-8"))
                            .withBucketAssigner(new BasePathBucketAssigner<>()).withOutputFileConfig(fileNames("dead-letters", ".jsonl")).build())
                    .name("dead-letter-files");
        }
    }

    private static OutputFileConfig fileNames(String prefix, String suffix) {
        return OutputFileConfig.builder().withPartPrefix(prefix).withPartSuffix(suffix).build();
    }

    /** Avro container files end in {@code .avro}; anything else is read as JSON Lines. */
    static boolean isAvro(Path input) {
        return files(input).stream().allMatch(f -> f.getFileName().toString().endsWith(".avro"))
                && !files(input).isEmpty();
    }

    /** Records in the input, counted up front for the progress report. */
    static long countRecords(Path input, boolean avro) {
        long total = 0;
        for (Path file : files(input)) {
            try {
                if (avro) {
                    try (DataFileStream<PromptRecord> records = new DataFileStream<>(Files.newInputStream(file),
                            new SpecificDatumReader<>(PromptRecord.class))) {
                        while (records.hasNext()) {
                            records.next();
                            total++;
                        }
                    }
                } else {
                    total += countNonBlankLines(file);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        return total;
    }

    /**
     * Lines with something other than white space, counted on bytes: a line that is not valid UTF-8 still
     * counts (the reader turns it into a dead letter), and counting never fails on it.
     */
    static long countNonBlankLines(Path file) throws IOException {
        long lines = 0;
        boolean content = false;
        try (java.io.InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file))) {
            for (int b = in.read(); b >= 0; b = in.read()) {
                if (b == '\n') {
                    lines += content ? 1 : 0;
                    content = false;
                } else if (b != ' ' && b != '\t' && b != '\r') {
                    content = true;
                }
            }
        }
        return lines + (content ? 1 : 0);
    }

    private static List<Path> files(Path input) {
        if (!Files.isDirectory(input)) {
            return List.of(input);
        }
        try (Stream<Path> list = Files.list(input)) {
            return list.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + input + ": " + e.getMessage(), e);
        }
    }

    /** A JSON line becomes a prompt, or a dead letter naming the file. */
    static final class ParseJsonLine
            implements org.apache.flink.api.common.functions.MapFunction<String, Either<DeadLetterRecord, PromptRecord>> {
        private static final long serialVersionUID = 1L;
        private final String file;
        private transient JsonLinesCodec codec;

        ParseJsonLine(String file) {
            this.file = file;
        }

        @Override
        public Either<DeadLetterRecord, PromptRecord> map(String line) {
            if (codec == null) {
                codec = new JsonLinesCodec();
            }
            return codec.parsePrompt(line, file, -1);
        }
    }
}
