package io.streaminfer.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.engine.GenerationResult;
import io.streaminfer.job.JobOptions;
import io.streaminfer.job.TestModels;
import io.streaminfer.job.codec.JsonLinesCodec;
import io.streaminfer.job.convert.SeedDerivation;
import io.streaminfer.job.local.JobRunner;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import io.streaminfer.schemas.Message;
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

    /**
     * A directory is read as the summary counts it: every regular file but dot-files (one named {@code _...}
     * among them, which Flink's default enumerator skips), not its subdirectories.
     */
    @Test
    void aDirectoryIsReadExactlyAsCounted() throws Exception {
        Path input = Files.createDirectories(dir.resolve("in"));
        List<PromptRecord> prompts = JobFixtures.prompts("d", 3);
        Files.write(input.resolve("_first.jsonl"), List.of(JsonLinesCodec.toLine(prompts.get(0)),
                JsonLinesCodec.toLine(prompts.get(1))));
        Files.write(input.resolve("b.jsonl"), List.of(JsonLinesCodec.toLine(prompts.get(2))));
        Files.write(input.resolve(".hidden.jsonl"), List.of("{\"id\":\"hidden\",\"prompt\":\"a\"}"));
        Files.write(Files.createDirectories(input.resolve("nested")).resolve("c.jsonl"),
                List.of("{\"id\":\"nested\",\"prompt\":\"a\"}"));
        Path output = dir.resolve("dir-out");
        Configuration conf = JobFixtures.options(1, 1);
        conf.set(JobOptions.INPUT_PATH, input.toString());
        conf.set(JobOptions.OUTPUT_PATH, output.toString());

        run(conf);

        JsonLinesCodec codec = new JsonLinesCodec();
        List<String> ids = new ArrayList<>();
        for (String line : lines(output.resolve(OfflineJob.COMPLETIONS_DIR))) {
            ids.add(codec.parseCompletion(line).getId());
        }
        ids.sort(null);
        assertEquals(prompts.stream().map(PromptRecord::getId).sorted().toList(), ids);
        OfflineSummary summary = OfflineSummary.of(input, output);
        assertTrue(summary.addsUp(), summary.render());
        assertEquals(3, summary.linesRead(), summary.render());
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
            writer.append(PromptRecord.newBuilder().setId("cold").setPrompt("Hi").setTemperature(-1f).build()); // record 6
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
        List<io.streaminfer.schemas.DeadLetterRecord> dead = new ArrayList<>();
        for (Path f : files(output.resolve(OfflineJob.DEAD_LETTERS_DIR))) {
            try (DataFileStream<io.streaminfer.schemas.DeadLetterRecord> in = new DataFileStream<>(Files.newInputStream(f),
                    new SpecificDatumReader<>(io.streaminfer.schemas.DeadLetterRecord.class))) {
                in.forEach(dead::add);
            }
        }
        assertEquals(1, dead.size(), dead.toString());
        assertEquals(input.toAbsolutePath().toString(), dead.get(0).getSourceFile());
        assertEquals(6L, dead.get(0).getSourceLine(), "an Avro record's position is its number in the file");
        byte[] original = new byte[dead.get(0).getOriginal().remaining()];
        dead.get(0).getOriginal().duplicate().get(original);
        assertEquals("cold", new io.streaminfer.job.codec.AvroCodec<>(PromptRecord.class).decode(original).getId());
        OfflineSummary summary = OfflineSummary.of(input, output);
        assertTrue(summary.addsUp(), summary.render());
        assertTrue(summary.render().startsWith("6 records read"), summary.render());
    }

    /**
     * A new user's file: odd lines of every kind. Each line gets exactly one answer; every dead letter names
     * its file and line and carries the line's own bytes, whether parsing, validation or the operator (an id
     * in flight) refused it; the summary adds up; a second run into the same output is refused.
     */
    @Test
    void everyOddLineGetsOneAnswerWithItsFileAndLine() throws Exception {
        String longPrompt = "Once upon a time ".repeat(200);
        String hugePrompt = "x".repeat(2 << 20);
        List<byte[]> lines = new ArrayList<>();
        java.util.function.Consumer<String> add = l -> lines.add(l.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        add.accept("{\"id\":\"v1\",\"prompt\":\"Once upon a time\",\"max_tokens\":8}");           // 1 (after a BOM)
        add.accept("{\"id\":\"v2\",\r\"prompt\":\"The little dog\",\"max_tokens\":8}");         // 2 bare CR
        add.accept("   ");                                                                          // 3 blank
        add.accept("{\"id\":\"t1\",\"prompt\":\"a\"} {\"id\":\"t2\",\"prompt\":\"b\"}");    // 4 two objects
        add.accept("{\"id\":\"g1\",\"prompt\":\"a\"} trailing");                                // 5 garbage after it
        lines.add(new byte[] {'{', '"', 'i', 'd', '"', ':', '"', 'u', (byte) 0xC3, '(', '"', '}'}); // 6 not UTF-8
        add.accept("{\"id\":\"f1\",\"prompt\":\"a\",\"temperature\":1e999}");                  // 7
        add.accept("{\"id\":\"p0\",\"prompt\":\"a\",\"top_p\":0}");                            // 8
        add.accept("{\"id\":\"s0\",\"prompt\":\"a\",\"stop\":[\"\"]}");                       // 9
        add.accept("{\"id\":\"e0\",\"prompt_token_ids\":[]}");                                    // 10
        add.accept("{\"id\":\"long\",\"prompt\":\"" + longPrompt + "\"}");                       // 11
        add.accept("{\"id\":\"\",\"prompt\":\"a\"}");                                            // 12
        add.accept("{\"id\":\"m0\",\"prompt\":\"a\",\"model\":\"llama-70b\"}");                // 13
        add.accept("{\"id\":\"dup\",\"prompt\":\"Once upon a time\",\"max_tokens\":400}");      // 14
        add.accept("{\"id\":\"dup\",\"prompt\":\"Hi\",\"max_tokens\":400}");                    // 15 in flight
        add.accept("{\"id\":\"col\",\"prompt\":\"Tom\",\"max_tokens\":4,\"label\":\"pos\",\"category\":7}"); // 16
        add.accept("{\"id\":\"et\",\"prompt\":\"Tom\",\"target\":\"\"}");                     // 17
        add.accept("{\"id\":\"v3\",\"prompt\":\"Tom\",\"max_tokens\":4}\r");                    // 18 CRLF
        add.accept("{\"id\":\"huge\",\"prompt\":\"" + hugePrompt + "\"}");                       // 19
        add.accept("{\"id\":\"r0\",\"prompt\":\"a\",\"metadata\":{\"streaminfer.origin.line\":\"1\"}}"); // 20
        Path input = dir.resolve("odd.jsonl");
        try (java.io.OutputStream out = Files.newOutputStream(input)) {
            out.write(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
            for (int i = 0; i < lines.size(); i++) {
                out.write(lines.get(i));
                if (i < lines.size() - 1) {
                    out.write('\n');
                }
            }
        }
        Path output = dir.resolve("odd-out");
        Configuration conf = JobFixtures.options(2, 1);
        conf.set(JobOptions.INPUT_PATH, input.toString());
        conf.set(JobOptions.OUTPUT_PATH, output.toString());

        long start = System.nanoTime();
        run(conf);
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        assertTrue(seconds < 120, "a 2 MB prompt must not stall the job: " + seconds + " s");

        JsonLinesCodec codec = new JsonLinesCodec();
        Map<String, CompletionRecord> completions = new HashMap<>();
        for (String line : lines(output.resolve(OfflineJob.COMPLETIONS_DIR))) {
            CompletionRecord c = codec.parseCompletion(line);
            assertNull(completions.put(c.getId(), c), "one completion per id: " + c.getId());
            assertTrue(c.getMetadata().keySet().stream().noneMatch(k -> k.startsWith("streaminfer.")), c.toString());
        }
        assertEquals(java.util.Set.of("v1", "v2", "v3", "dup", "col"), completions.keySet());
        assertEquals(Map.of("label", "pos", "category", "7"), completions.get("col").getMetadata());
        assertTrue(completions.get("dup").getTokenIds().size() > 8, "the completion is the first request's");

        String file = input.toAbsolutePath().toString();
        Map<Long, io.streaminfer.schemas.DeadLetterRecord> byLine = new java.util.TreeMap<>();
        for (String line : lines(output.resolve(OfflineJob.DEAD_LETTERS_DIR))) {
            io.streaminfer.schemas.DeadLetterRecord d = io.streaminfer.job.codec.PlainJson.parse(line,
                    io.streaminfer.schemas.DeadLetterRecord.class);
            assertEquals(file, d.getSourceFile(), d.toString());
            assertNotNull(d.getSourceLine(), d.toString());
            assertNull(byLine.put(d.getSourceLine(), d), "one dead letter per line");
            byte[] expected = lines.get((int) (d.getSourceLine() - 1));
            if (expected[expected.length - 1] == '\r') {
                expected = java.util.Arrays.copyOf(expected, expected.length - 1);
            }
            byte[] original = new byte[d.getOriginal().remaining()];
            d.getOriginal().duplicate().get(original);
            assertTrue(java.util.Arrays.equals(expected, original), "the line's own bytes, line " + d.getSourceLine());
        }
        long dupLine = byLine.containsKey(14L) ? 14L : 15L;
        assertEquals(java.util.Set.of(4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, dupLine, 17L, 19L, 20L), byLine.keySet());
        assertTrue(byLine.get(dupLine).getReason().contains("in flight"), byLine.get(dupLine).getReason());
        assertTrue(byLine.get(4L).getReason().contains("{\"id\":\"t2\""), byLine.get(4L).getReason());
        assertTrue(byLine.get(5L).getReason().contains("`trailing`"), byLine.get(5L).getReason());
        assertTrue(byLine.get(6L).getReason().contains("not valid UTF-8"), byLine.get(6L).getReason());
        assertTrue(byLine.get(7L).getReason().contains("1e999"), byLine.get(7L).getReason());
        assertTrue(byLine.get(17L).getReason().startsWith("the target is empty"), byLine.get(17L).getReason());
        assertTrue(byLine.get(19L).getReason().contains("refused before tokenizing"), byLine.get(19L).getReason());

        OfflineSummary summary = OfflineSummary.of(input, output);
        assertTrue(summary.addsUp(), summary.render());
        assertEquals(20, summary.linesRead());
        assertEquals(1, summary.blankLines());
        assertEquals(5, summary.completions());
        assertEquals(0, summary.errors());
        assertEquals(14, summary.deadLetters());
        assertTrue(summary.render().startsWith("20 lines read from " + input + ": 5 completions, 0 errors, 14 dead letters,"
                + " 1 blank lines skipped"), summary.render());

        // An answer gone missing is named by its line.
        Path damaged = dir.resolve("damaged-out");
        copyTree(output, damaged);
        for (Path f : files(damaged.resolve(OfflineJob.COMPLETIONS_DIR))) {
            List<String> kept = Files.readAllLines(f).stream().filter(l -> !l.contains("\"id\":\"v2\"")).toList();
            Files.write(f, kept);
        }
        OfflineSummary missing = OfflineSummary.of(input, damaged);
        assertFalse(missing.addsUp());
        assertEquals(List.of(file + ":2"), missing.missing());
        assertTrue(missing.render().contains("no answer for 1: " + file + ":2"), missing.render());

        // A second run into the same output would double every answer: refused before it starts.
        IllegalArgumentException again = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> JobRunner.build(StreamExecutionEnvironment.getExecutionEnvironment(), conf));
        assertTrue(again.getMessage().contains("is not empty"), again.getMessage());
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
    /**
     * A Hugging Face model directory (stories260K rewritten, with a ChatML tokenizer): {@code messages} records
     * rendered with its chat template (the prompt's tokens predicted by hand), a conversation the template refuses
     * as a dead letter with its words, and generation ending on the tokenizer_config's EOS token, which the text
     * leaves out: the EOS is made the token the model generates at some step k, so the completion must be exactly
     * the k tokens before it.
     */
    @Test
    void messagesRecordsAreRenderedWithTheChatTemplateAndStopOnTheTokenizersEos() throws Exception {
        Configuration conf = JobFixtures.options(2, 1);
        Path weights = TestModels.stories260KOrSynthetic().checkpoint();
        conf.removeConfig(JobOptions.TOKENIZER_PATH); // the model directory's own tokenizer
        conf.set(JobOptions.MODEL_PATH, ChatTokenizerFixture.write(
                HfDirectoryFixture.write(weights, dir.resolve("hf-chatml")), -1).toString());
        PromptRecord chat = PromptRecord.newBuilder().setId("chat").setMaxTokens(16).setTemperature(0f)
                .setMessages(List.of(new Message("user", "Once upon a time"))).build();
        int[] free = JobFixtures.expected(conf, List.of(chat)).get("chat").tokenIds();
        int k = 1;
        while (k < free.length && !isNewPiece(free, k)) {
            k++;
        }
        assertTrue(k < free.length, "no piece among the greedy tokens to make the EOS: " + java.util.Arrays.toString(free));
        int stop = free[k];
        conf.set(JobOptions.MODEL_PATH, ChatTokenizerFixture.write(
                HfDirectoryFixture.write(weights, dir.resolve("hf-chatml-stop")), stop).toString());

        Path input = dir.resolve("chat.jsonl");
        Map<String, Object> noThinking = new HashMap<>(Map.of("enable_thinking", false));
        Files.write(input, List.of(JsonLinesCodec.toLine(chat),
                JsonLinesCodec.toLine(PromptRecord.newBuilder(chat).setId("think").setChatTemplateKwargs(noThinking).build()),
                JsonLinesCodec.toLine(PromptRecord.newBuilder(chat).setId("refused")
                        .setMessages(List.of(new Message("assistant", "Hello"))).build()),
                JsonLinesCodec.toLine(PromptRecord.newBuilder(chat).setId("two").setN(2).build())));
        Path output = dir.resolve("chat-out");
        conf.set(JobOptions.INPUT_PATH, input.toString());
        conf.set(JobOptions.OUTPUT_PATH, output.toString());

        run(conf);

        JsonLinesCodec codec = new JsonLinesCodec();
        Map<String, CompletionRecord> completions = new HashMap<>();
        for (String line : lines(output.resolve(OfflineJob.COMPLETIONS_DIR))) {
            CompletionRecord c = codec.parseCompletion(line);
            completions.put(c.getId(), c);
        }
        assertEquals(java.util.Set.of("chat", "think", "two"), completions.keySet());
        // Greedy, so both samples of a conversation with n = 2 are the conversation's one greedy completion.
        assertEquals(2, completions.get("two").getChoices().size());
        for (int i = 0; i < 2; i++) {
            assertEquals(completions.get("chat").getTokenIds(), completions.get("two").getChoices().get(i).getTokenIds());
        }
        CompletionRecord c = completions.get("chat");
        assertEquals(ChatTokenizerFixture.userTurnTokens("Once upon a time").length, c.getPromptTokens(),
                "the ChatML rendering with the generation prompt, encoded without added specials");
        assertEquals(java.util.Arrays.stream(free, 0, k).boxed().toList(), c.getTokenIds(),
                "generation ends right before the tokenizer_config's EOS token " + stop);
        assertEquals("stop", c.getFinishReason());
        assertTrue(!c.getText().contains("<|stop|>") && !c.getText().contains("p" + stop), c.getText());
        assertEquals(c.getPromptTokens() + "<think>\n\n</think>\n\n".length(), completions.get("think").getPromptTokens(),
                "chat_template_kwargs reach the template");
        List<String> deadLetters = lines(output.resolve(OfflineJob.DEAD_LETTERS_DIR));
        assertEquals(1, deadLetters.size(), deadLetters.toString());
        assertTrue(deadLetters.stream().anyMatch(l -> l.contains(
                "the chat template refused the conversation: The conversation must start with a user or system message")),
                deadLetters.toString());
    }

    /** Whether {@code tokens[k]} is a plain piece of the chat tokenizer that no earlier token is. */
    private static boolean isNewPiece(int[] tokens, int k) {
        if (tokens[k] < 259 || tokens[k] >= ChatTokenizerFixture.IM_START) {
            return false;
        }
        for (int i = 0; i < k; i++) {
            if (tokens[i] == tokens[k]) {
                return false;
            }
        }
        return true;
    }

    /** An OpenAI batch file: chat and completion lines answered as the Batch API does, each bad line with an error. */
    @Test
    void openAiBatchLinesGetOneAnswerLineEach() throws Exception {
        Configuration conf = JobFixtures.options(2, 2);
        conf.set(JobOptions.TOKENIZER_PATH, ChatTokenizerFixture.write(dir.resolve("chatml"), -1).toString());
        conf.set(JobOptions.MODEL_NAME, "tiny-chat");
        Path input = dir.resolve("batch.jsonl");
        Files.write(input, List.of(
                "{\"custom_id\": \"r1\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", \"body\": {\"model\": "
                        + "\"tiny-chat\", \"messages\": [{\"role\": \"user\", \"content\": \"Once upon a time\"}], "
                        + "\"max_tokens\": 8, \"temperature\": 0, \"seed\": 1, \"logprobs\": true}}",
                "{\"custom_id\": \"c1\", \"method\": \"POST\", \"url\": \"/v1/completions\", \"body\": {\"model\": "
                        + "\"tiny-chat\", \"prompt\": \"Once upon a time\", \"max_tokens\": 6, \"temperature\": 0}}",
                "{\"custom_id\": \"n2\", \"method\": \"POST\", \"url\": \"/v1/completions\", \"body\": {\"model\": "
                        + "\"tiny-chat\", \"prompt\": \"The little dog\", \"max_tokens\": 6, \"temperature\": 0.9, "
                        + "\"seed\": 5, \"n\": 2}}",
                "{\"custom_id\": \"bad-url\", \"method\": \"POST\", \"url\": \"/v1/embeddings\", \"body\": {}}",
                "{\"custom_id\": \"broken\", ",
                "{\"custom_id\": \"other-model\", \"method\": \"POST\", \"url\": \"/v1/completions\", \"body\": "
                        + "{\"model\": \"gpt-4o\", \"prompt\": \"Hi\"}}"));
        Path output = dir.resolve("batch-out");
        conf.set(JobOptions.INPUT_PATH, input.toString());
        conf.set(JobOptions.OUTPUT_PATH, output.toString());
        Map<String, GenerationResult> expected = JobFixtures.expected(conf, List.of(
                PromptRecord.newBuilder().setId("r1").setMessages(List.of(new Message("user", "Once upon a time")))
                        .setMaxTokens(8).setTemperature(0f).setSeed(1L).setLogprobs(true).build(),
                PromptRecord.newBuilder().setId("c1").setPrompt("Once upon a time").setMaxTokens(6).setTemperature(0f)
                        .build(),
                // n = 2: sample k runs as an n = 1 request with the derived seed
                PromptRecord.newBuilder().setId("n2-0").setPrompt("The little dog").setMaxTokens(6).setTemperature(0.9f)
                        .setSeed(SeedDerivation.sampleSeed(5L, 0)).build(),
                PromptRecord.newBuilder().setId("n2-1").setPrompt("The little dog").setMaxTokens(6).setTemperature(0.9f)
                        .setSeed(SeedDerivation.sampleSeed(5L, 1)).build()));

        run(conf);

        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Map<String, com.fasterxml.jackson.databind.JsonNode> answers = new HashMap<>();
        for (String line : lines(output.resolve(OfflineJob.COMPLETIONS_DIR))) {
            com.fasterxml.jackson.databind.JsonNode answer = json.readTree(line);
            assertNull(answers.put(answer.get("custom_id").asText(), answer), line);
        }
        assertEquals(java.util.Set.of("r1", "c1", "n2", "bad-url", "null", "other-model"), answers.keySet(),
                "every line answered once; the broken line has no readable custom_id");
        com.fasterxml.jackson.databind.JsonNode chat = answers.get("r1").get("response").get("body");
        assertEquals("chat.completion", chat.get("object").asText());
        assertEquals("tiny-chat", chat.get("model").asText());
        GenerationResult r1 = expected.get("r1");
        assertEquals(r1.text(), chat.get("choices").get(0).get("message").get("content").asText());
        assertEquals(r1.tokenIds().length, chat.get("usage").get("completion_tokens").asInt());
        assertEquals(ChatTokenizerFixture.userTurnTokens("Once upon a time").length,
                chat.get("usage").get("prompt_tokens").asInt());
        assertEquals(r1.tokenIds().length, chat.get("choices").get(0).get("logprobs").get("content").size());
        com.fasterxml.jackson.databind.JsonNode text = answers.get("c1").get("response").get("body");
        assertEquals("text_completion", text.get("object").asText());
        assertEquals(expected.get("c1").text(), text.get("choices").get(0).get("text").asText());
        assertEquals(expected.get("c1").tokenIds().length, text.get("usage").get("completion_tokens").asInt());
        com.fasterxml.jackson.databind.JsonNode two = answers.get("n2").get("response").get("body");
        assertEquals(2, two.get("choices").size());
        int twoTokens = 0;
        for (int k = 0; k < 2; k++) {
            assertEquals(k, two.get("choices").get(k).get("index").asInt());
            assertEquals(expected.get("n2-" + k).text(), two.get("choices").get(k).get("text").asText());
            twoTokens += expected.get("n2-" + k).tokenIds().length;
        }
        assertEquals(twoTokens, two.get("usage").get("completion_tokens").asInt(), "usage sums the choices");
        assertEquals(expected.get("n2-0").promptTokenIds().length, two.get("usage").get("prompt_tokens").asInt());
        assertTrue(answers.get("bad-url").get("error").get("message").asText().startsWith("url must be"));
        assertTrue(answers.get("null").get("error").get("message").asText().startsWith("the line ends inside the JSON"));
        assertTrue(answers.get("other-model").get("error").get("message").asText().contains("is not the loaded model"));
        assertTrue(answers.get("other-model").get("response").isNull());
        assertEquals(3, lines(output.resolve(OfflineJob.DEAD_LETTERS_DIR)).size(), "the dead letters go to dead-letters/ as well");
        OfflineSummary summary = OfflineSummary.of(input, output);
        assertTrue(summary.addsUp(), summary.render());
        assertTrue(summary.render().startsWith("6 lines read from " + input + ": 3 completions, 0 errors, 3 dead letters"),
                summary.render());
    }

    /**
     * Records asking for n = 3 samples get one completion each with 3 choices: choice 0 is the n = 1 run of the
     * same record, choice k the n = 1 run with the seed {@link SeedDerivation#sampleSeed} gives (bitwise).
     */
    @Test
    void nSamplesJoinIntoOneCompletionWhoseChoicesAreTheSeparateRuns() throws Exception {
        PromptRecord seeded = PromptRecord.newBuilder().setId("s3a").setPrompt("Once upon a time").setMaxTokens(10)
                .setTemperature(0.9f).setSeed(77L).setN(3).setMetadata(Map.of("m", "a")).build();
        PromptRecord unseeded = PromptRecord.newBuilder().setId("s3b").setKey("user-1").setPrompt("The little dog")
                .setMaxTokens(12).setTemperature(1f).setN(3).build();
        PromptRecord single = PromptRecord.newBuilder().setId("one").setPrompt("A cat sat on the").setMaxTokens(8)
                .setTemperature(0.9f).build();
        Path input = dir.resolve("samples.jsonl");
        Files.write(input, List.of(JsonLinesCodec.toLine(seeded), JsonLinesCodec.toLine(unseeded),
                JsonLinesCodec.toLine(single),
                "{\"id\":\"many\",\"prompt\":\"Hi\",\"n\":5}", "{\"id\":\"none\",\"prompt\":\"Hi\",\"n\":0}"));
        Path output = dir.resolve("samples-out");
        Configuration conf = JobFixtures.options(2, 2);
        conf.set(JobOptions.MAX_N, 4);
        conf.set(JobOptions.INPUT_PATH, input.toString());
        conf.set(JobOptions.OUTPUT_PATH, output.toString());
        List<PromptRecord> separate = new ArrayList<>();
        for (PromptRecord p : List.of(seeded, unseeded)) {
            long seed = p.getSeed() != null ? p.getSeed() : SeedDerivation.seedFromId(p.getId());
            separate.add(PromptRecord.newBuilder(p).setN(1).build()); // choice 0: the same record with n = 1
            for (int k = 1; k < 3; k++) {
                separate.add(PromptRecord.newBuilder(p).setId(p.getId() + "-" + k).setN(1)
                        .setSeed(SeedDerivation.sampleSeed(seed, k)).build());
            }
        }
        separate.add(single);
        Map<String, GenerationResult> expected = JobFixtures.expected(conf, separate);

        run(conf);

        JsonLinesCodec codec = new JsonLinesCodec();
        Map<String, CompletionRecord> completions = new HashMap<>();
        for (String line : lines(output.resolve(OfflineJob.COMPLETIONS_DIR))) {
            CompletionRecord c = codec.parseCompletion(line);
            assertNull(completions.put(c.getId(), c), "duplicate " + c.getId());
        }
        assertEquals(java.util.Set.of("s3a", "s3b", "one"), completions.keySet());
        for (PromptRecord p : List.of(seeded, unseeded)) {
            CompletionRecord c = completions.get(p.getId());
            assertEquals(CompletionStatus.OK, c.getStatus(), c.toString());
            assertEquals(3, c.getChoices().size());
            int tokens = 0;
            for (int k = 0; k < 3; k++) {
                GenerationResult run = expected.get(k == 0 ? p.getId() : p.getId() + "-" + k);
                List<Integer> want = java.util.Arrays.stream(run.tokenIds()).boxed().toList();
                assertEquals(k, c.getChoices().get(k).getIndex());
                assertEquals(want, c.getChoices().get(k).getTokenIds(), p.getId() + " choice " + k);
                assertEquals(run.text(), c.getChoices().get(k).getText());
                tokens += want.size();
            }
            assertEquals(c.getChoices().get(0).getTokenIds(), c.getTokenIds(), "token_ids are choice 0's");
            assertEquals(c.getChoices().get(0).getText(), c.getText());
            assertEquals(tokens, c.getCompletionTokens(), "completion tokens summed");
            assertEquals(expected.get(p.getId()).promptTokenIds().length, c.getPromptTokens(), "the prompt once");
            assertEquals(p.getKey(), c.getKey());
            assertEquals(p.getMetadata(), c.getMetadata(), "no job keys reach the completion");
        }
        assertFalse(completions.get("s3a").getChoices().get(1).getTokenIds()
                .equals(completions.get("s3a").getChoices().get(2).getTokenIds()), "samples differ");
        assertNull(completions.get("one").getChoices(), "n = 1 is unchanged");
        assertEquals(java.util.Arrays.stream(expected.get("one").tokenIds()).boxed().toList(),
                completions.get("one").getTokenIds());
        List<String> deadLetters = lines(output.resolve(OfflineJob.DEAD_LETTERS_DIR));
        assertEquals(2, deadLetters.size(), deadLetters.toString());
        assertTrue(deadLetters.stream().anyMatch(l -> l.contains("--max-n 4")), deadLetters.toString());
        assertTrue(deadLetters.stream().anyMatch(l -> l.contains("n must be >= 1")), deadLetters.toString());
    }
}
