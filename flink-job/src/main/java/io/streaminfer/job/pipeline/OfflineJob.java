package io.streaminfer.job.pipeline;

import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.job.JobOptions;
import io.streaminfer.job.codec.JsonLinesCodec;
import io.streaminfer.job.codec.LineSplitter;
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
import org.apache.flink.connector.file.src.enumerate.NonSplittingRecursiveEnumerator;
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
        org.apache.flink.core.fs.Path output = new org.apache.flink.core.fs.Path(Path.of(conf.get(JobOptions.OUTPUT_PATH)).toUri());
        boolean avro = isAvro(Path.of(input));
        boolean openAi = !avro && OpenAiBatchFiles.isBatchInput(files(Path.of(input)));
        long total = countRecords(Path.of(input), avro);

        Path outputDir = Path.of(conf.get(JobOptions.OUTPUT_PATH));
        requireEmptyOutput(outputDir);
        try {
            Files.createDirectories(outputDir); // there even when nothing is written, for the run's summary
        } catch (IOException e) {
            throw new IllegalArgumentException("--output: cannot create directory " + outputDir + ": " + e.getMessage(), e);
        }

        DataStream<Either<DeadLetterRecord, PromptRecord>> prompts = env.fromSource(
                source(new PromptFileFormat(avro ? PromptFileFormat.Kind.AVRO
                        : openAi ? PromptFileFormat.Kind.OPENAI_BATCH : PromptFileFormat.Kind.JSON_LINES), Path.of(input)),
                WatermarkStrategy.noWatermarks(), "prompt-files");
        InferencePipeline.Outputs outputs = InferencePipeline.attach(prompts, replica, model, dp, conf.get(JobOptions.MAX_N));
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

    /**
     * A source of exactly {@link #files}: Flink's default enumerator would also skip names starting with
     * {@code _} (a single input file among them) and descend into subdirectories, so the up-front count, the
     * OpenAI detection and the summary would not be of what was read.
     */
    static FileSource<Either<DeadLetterRecord, PromptRecord>> source(PromptFileFormat format, Path input) {
        List<Path> files = files(input);
        boolean any = !files.isEmpty();
        // Flink wants at least one path: an empty directory is given with a filter that takes nothing
        org.apache.flink.core.fs.Path[] paths = (any ? files : List.of(input)).stream()
                .map(f -> new org.apache.flink.core.fs.Path(f.toUri())).toArray(org.apache.flink.core.fs.Path[]::new);
        return FileSource.forBulkFileFormat(format, paths)
                .setFileEnumerator(() -> new NonSplittingRecursiveEnumerator(path -> any)).build();
    }

    /** Avro container files end in {@code .avro}; anything else is read as JSON Lines. */
    static boolean isAvro(Path input) {
        return files(input).stream().allMatch(f -> f.getFileName().toString().endsWith(".avro"))
                && !files(input).isEmpty();
    }

    /**
     * Records in the input, counted up front for the progress report; an Avro file that is not a container
     * of PromptRecords, or is damaged, is refused here, before the job starts, naming the file and record.
     */
    static long countRecords(Path input, boolean avro) {
        long total = 0;
        for (Path file : files(input)) {
            long read = 0;
            try {
                if (avro) {
                    try (DataFileStream<PromptRecord> records = new DataFileStream<>(Files.newInputStream(file),
                            new SpecificDatumReader<>(PromptRecord.class))) {
                        while (records.hasNext()) {
                            records.next();
                            read++;
                        }
                    }
                } else {
                    read = countNonBlankLines(file);
                }
            } catch (org.apache.avro.AvroRuntimeException | IOException e) {
                if (!avro) {
                    throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(),
                            e instanceof IOException io ? io : new IOException(e));
                }
                // Avro wraps the stream's IOException (a bad sync marker, an early end): that one says what is wrong
                Throwable why = e instanceof org.apache.avro.AvroRuntimeException && e.getCause() != null
                        ? e.getCause() : e;
                String reason = why.getMessage() == null ? why.getClass().getSimpleName() : why.getMessage();
                throw new IllegalArgumentException("--input " + file + " is not a readable Avro container file of"
                        + " PromptRecords (" + (read == 0 ? "at its start" : "after record " + read) + ": " + reason
                        + ")", e);
            }
            total += read;
        }
        return total;
    }

    /** Lines that are not blank, split as the job's source splits them ({@link LineSplitter}). */
    static long countNonBlankLines(Path file) throws IOException {
        long lines = 0;
        try (java.io.InputStream in = Files.newInputStream(file)) {
            LineSplitter splitter = new LineSplitter(in, JsonLinesCodec.MAX_LINE_BYTES);
            for (LineSplitter.Line line = splitter.next(); line != null; line = splitter.next()) {
                lines += line.blank() ? 0 : 1;
            }
        }
        return lines;
    }

    /**
     * A second run into the same directory would add a second answer for every line, so the output must be
     * new or empty.
     */
    static void requireEmptyOutput(Path output) {
        if (!Files.isDirectory(output)) {
            return;
        }
        try (Stream<Path> entries = Files.list(output)) {
            List<String> names = entries.map(p -> p.getFileName().toString()).sorted().limit(3).toList();
            if (!names.isEmpty()) {
                throw new IllegalArgumentException("--output " + output + " is not empty (it holds " + String.join(", ", names)
                        + (names.size() == 3 ? ", ..." : "") + "): a run writes new files next to the old ones, so give a"
                        + " new or empty directory, or remove that one first");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list --output " + output + ": " + e.getMessage(), e);
        }
    }

    /**
     * The input's files, the one list the source, the count and the summary read: the file itself, or a
     * directory's regular files whose names do not start with a dot, in name order (not its subdirectories).
     */
    static List<Path> files(Path input) {
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
}
