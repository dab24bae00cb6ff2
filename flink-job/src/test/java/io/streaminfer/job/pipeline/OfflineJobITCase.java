package io.streaminfer.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.engine.GenerationResult;
import io.streaminfer.job.JobOptions;
import io.streaminfer.job.TestModels;
import io.streaminfer.job.codec.JsonLinesCodec;
import io.streaminfer.job.local.JobRunner;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import io.streaminfer.schemas.PromptRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Offline scoring: bounded files in, completion and dead-letter files out, and the job ends. */
class OfflineJobITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4)
                    .build());

    @TempDir
    Path dir;

    private static void run(Configuration conf) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(JobRunner.flinkSettings(env.getConfiguration()));
        JobRunner.build(env, conf);
        env.execute("offline"); // returns only when the bounded input is done
    }

    private static List<Path> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).toList();
        }
    }

    private static List<String> lines(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        for (Path f : files(dir)) {
            out.addAll(Files.readAllLines(f).stream().filter(l -> !l.isBlank()).toList());
        }
        return out;
    }

    @Test
    void jsonLinesInGiveCompletionsScoresAndDeadLettersOut() throws Exception {
        List<PromptRecord> prompts = JobFixtures.prompts("o", 6);
        Path input = dir.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        prompts.forEach(p -> lines.add(JsonLinesCodec.toLine(p)));
        lines.add("{\"id\": \"broken\", \"prompt\": ");                                  // malformed JSON
        lines.add("{\"id\":\"hot\",\"prompt\":\"Hi\",\"temperature\":-2}");               // invalid parameter
        lines.add("{\"id\":\"score\",\"prompt\":\"Once upon a time\",\"target\":\", there was a little girl\"}");
        lines.add("{\"id\":\"unlikely\",\"prompt\":\"Once upon a time\",\"target\":\" purple quantum tax forms\"}");
        Files.write(input, lines);
        // A line that is not even UTF-8 becomes a dead letter too; it must not stop the job.
        Files.write(input, new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}', '\n'}, java.nio.file.StandardOpenOption.APPEND);
        Path output = dir.resolve("out");
        Configuration conf = JobFixtures.options(2, 2);
        conf.set(JobOptions.INPUT_PATH, input.toString());
        conf.set(JobOptions.OUTPUT_PATH, output.toString());
        Map<String, GenerationResult> expected = JobFixtures.expected(conf, prompts);

        run(conf);

        for (Path f : files(output.resolve(OfflineJob.COMPLETIONS_DIR))) {
            assertEquals(output.resolve(OfflineJob.COMPLETIONS_DIR), f.getParent(), "no bucket folders: " + f);
            assertTrue(f.getFileName().toString().endsWith(".jsonl"), f.toString());
        }
        JsonLinesCodec codec = new JsonLinesCodec();
        Map<String, CompletionRecord> completions = new HashMap<>();
        for (String line : lines(output.resolve(OfflineJob.COMPLETIONS_DIR))) {
            CompletionRecord c = codec.parseCompletion(line);
            assertNull(completions.put(c.getId(), c), "duplicate " + c.getId());
        }
        assertEquals(prompts.size() + 2, completions.size(), completions.keySet().toString());
        for (PromptRecord p : prompts) {
            CompletionRecord c = completions.get(p.getId());
            assertEquals(CompletionStatus.OK, c.getStatus());
            assertEquals(java.util.Arrays.stream(expected.get(p.getId()).tokenIds()).boxed().toList(), c.getTokenIds());
            assertEquals(p.getMetadata(), c.getMetadata(), "metadata passes through");
        }
        for (String id : List.of("score", "unlikely")) {
            CompletionRecord scored = completions.get(id);
            assertNotNull(scored.getScore(), id);
            assertEquals(scored.getScore(), scored.getLogprobs().stream().mapToDouble(Float::doubleValue).sum(), 1e-3,
                    "the score is the sum of the per-token log-probabilities");
            assertTrue(scored.getLogprobs().stream().allMatch(lp -> lp <= 0f), id);
        }

        List<String> deadLetters = lines(output.resolve(OfflineJob.DEAD_LETTERS_DIR));
        assertEquals(3, deadLetters.size(), deadLetters.toString());
        assertTrue(deadLetters.stream().anyMatch(l -> l.contains("temperature")), deadLetters.toString());
    }

    /** Only the real model knows its own continuation: scored through the job, it beats an unlikely one per token. */
    @Test
    void theRealModelScoresItsOwnContinuationHigherPerToken() throws Exception {
        Path input = dir.resolve("scores.jsonl");
        Files.write(input, List.of(
                "{\"id\":\"score\",\"prompt\":\"Once upon a time\",\"target\":\", there was a little girl\"}",
                "{\"id\":\"unlikely\",\"prompt\":\"Once upon a time\",\"target\":\" purple quantum tax forms\"}"));
        Path output = dir.resolve("scores-out");
        Configuration conf = JobFixtures.options(1, 1);
        conf.set(JobOptions.MODEL_PATH, TestModels.requireShared("stories260K.bin").toString());
        conf.set(JobOptions.TOKENIZER_PATH, TestModels.requireShared("tok512.bin").toString());
        conf.set(JobOptions.INPUT_PATH, input.toString());
        conf.set(JobOptions.OUTPUT_PATH, output.toString());

        run(conf);

        JsonLinesCodec codec = new JsonLinesCodec();
        Map<String, CompletionRecord> scored = new HashMap<>();
        for (String line : lines(output.resolve(OfflineJob.COMPLETIONS_DIR))) {
            CompletionRecord c = codec.parseCompletion(line);
            scored.put(c.getId(), c);
        }
        CompletionRecord likely = scored.get("score");
        CompletionRecord unlikely = scored.get("unlikely");
        assertTrue(likely.getScore() / likely.getLogprobs().size() > unlikely.getScore() / unlikely.getLogprobs().size(),
                "the model's own continuation scores higher per token: " + likely.getScore() + " vs " + unlikely.getScore());
    }

    @Test
    void avroContainerFilesInGiveAvroOut() throws Exception {
        List<PromptRecord> prompts = JobFixtures.prompts("a", 5);
        Path input = dir.resolve("prompts.avro");
        try (DataFileWriter<PromptRecord> writer = new DataFileWriter<>(new SpecificDatumWriter<>(PromptRecord.class))) {
            writer.create(PromptRecord.getClassSchema(), input.toFile());
            for (PromptRecord p : prompts) {
                writer.append(p);
            }
        }
        Path output = dir.resolve("avro-out");
        Configuration conf = JobFixtures.options(1, 2);
        conf.set(JobOptions.INPUT_PATH, input.toString());
        conf.set(JobOptions.OUTPUT_PATH, output.toString());

        run(conf);

        List<String> ids = new ArrayList<>();
        for (Path f : files(output.resolve(OfflineJob.COMPLETIONS_DIR))) {
            assertTrue(f.getFileName().toString().endsWith(".avro"), f.toString());
            try (DataFileStream<CompletionRecord> in = new DataFileStream<>(Files.newInputStream(f),
                    new SpecificDatumReader<>(CompletionRecord.class))) {
                in.forEach(c -> ids.add(c.getId()));
            }
        }
        ids.sort(String::compareTo);
        assertEquals(prompts.stream().map(PromptRecord::getId).sorted().toList(), ids);
    }
}
