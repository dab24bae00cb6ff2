package io.streaminfer.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.job.JobOptions;
import io.streaminfer.job.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Parses, checks and help of every command, through the real picocli CommandLine. */
class CliTest {
    @TempDir
    Path dir;
    private Path model;
    private Path tokenizer;

    @BeforeEach
    void files() throws IOException {
        // A real (tiny) checkpoint: generate reads its header to check --tp before anything runs.
        model = dir.resolve("m.bin");
        io.streaminfer.model.SyntheticCheckpoint.write(model,
                io.streaminfer.model.ModelConfig.llama2c(8, 16, 1, 2, 2, 384, 8, true), 1);
        // A real tokenizer of the model's 384 entries: the checks load it and compare its vocabulary.
        tokenizer = dir.resolve("t.bin");
        io.streaminfer.model.SyntheticTokenizer.write(tokenizer, 384);
    }

    /** Result of one CLI invocation. */
    record Outcome(int exit, String out, String err, CommandLine cli) {
        List<String> errLines() {
            return err.lines().toList();
        }
    }

    private static Outcome execute(String... args) {
        return execute(() -> { }, args);
    }

    private static Outcome execute(Runnable beforeRun, String... args) {
        CommandLine cl = Main.commandLine(beforeRun);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Outcome(exit, out.toString(), err.toString(), cl);
    }

    private static void assertUsageError(Outcome o, String expectedFragment) {
        assertEquals(Cli.EXIT_USAGE, o.exit(), o.err());
        assertEquals(1, o.errLines().size(), "exactly one line: " + o.err());
        assertTrue(o.err().contains(expectedFragment), o.err());
        assertFalse(o.err().contains("\tat "), "no stack trace");
        assertEquals("", o.out());
    }

    private RunCommand runCommand(Outcome o) {
        return (RunCommand) o.cli().getSubcommands().get("run").getCommand();
    }

    /** Parses and checks a command without running it (the bodies start jobs). */
    private static <T extends CheckedCommand> T checkOnly(String... args) {
        CommandLine cl = Main.commandLine();
        CommandLine.ParseResult parsed = cl.parseArgs(args);
        @SuppressWarnings("unchecked")
        T command = (T) parsed.subcommand().commandSpec().userObject();
        command.check();
        return command;
    }

    @Test
    void helpListsEveryCommandAndFlag() {
        Outcome o = execute("--help");
        assertEquals(0, o.exit());
        for (String command : List.of("generate", "bench", "run", "demo")) {
            assertTrue(o.out().contains("streaminfer " + command), command);
        }
        for (JobOptions.Flag flag : JobOptions.runFlags()) {
            assertTrue(o.out().contains(flag.name()), flag.name());
        }
        for (JobOptions.Flag flag : JobOptions.demoFlags()) {
            assertTrue(o.out().contains(flag.name()), flag.name());
        }
        for (String flag : List.of("--max-tokens", "--temperature", "--top-p", "--top-k", "--seed", "--batch", "--tokens")) {
            assertTrue(o.out().contains(flag), flag);
        }
        assertTrue(o.out().replaceAll("\\s+", " ").contains("Default: prompts-dlq."), "defaults come from the ConfigOptions");
        assertEquals("", o.err());
    }

    @Test
    void unknownFlagIsOneLineAndExit2() {
        assertUsageError(execute("generate", "--bogus"), "Unknown option: '--bogus'");
        assertUsageError(execute("run", "--bogus"), "Unknown option: '--bogus'");
        assertUsageError(execute("frobnicate"), "Unmatched argument");
        assertUsageError(execute(), "missing command");
    }

    @Test
    void unreadableFilesAreOneLineAndExit2() {
        assertUsageError(execute("generate", "--model", dir.resolve("none.bin").toString(), "--tokenizer",
                tokenizer.toString()), "--model: no such file");
        assertUsageError(execute("generate", "--model", dir.toString(), "--tokenizer", tokenizer.toString()),
                "is a directory without config.json: not a Hugging Face model directory");
        assertUsageError(execute("generate", "--tokenizer", tokenizer.toString()), "missing --model");
        assertUsageError(execute("run", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "--input", dir.resolve("absent.jsonl").toString(), "--output", dir.resolve("out").toString()),
                "--input: no such file or directory");
    }

    @Test
    void badValuesNameTheFlag() {
        String[] files = {"--model", model.toString(), "--tokenizer", tokenizer.toString(), "--bootstrap-servers", "h:9092"};
        assertUsageError(execute(concat(new String[] {"run", "--tp", "x"}, files)), "invalid value for --tp: 'x' (expected an integer)");
        assertUsageError(execute(concat(new String[] {"run", "--tp", "0"}, files)), "--tp must be >= 1, got 0");
        assertUsageError(execute(concat(new String[] {"run", "--backend", "tpu"}, files)), "invalid value for --backend");
        assertUsageError(execute(concat(new String[] {"run", "--checkpoint-interval", "soon"}, files)), "--checkpoint-interval");
        assertUsageError(execute(concat(new String[] {"run", "--kafka-property", "novalue"}, files)), "expected KEY=VALUE");
        assertUsageError(execute(concat(new String[] {"run", "--input-topic", "completions"}, files)), "--input-topic must differ");
        assertUsageError(execute("generate", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "--top-p", "0"), "top_p must be within (0, 1]");
        assertUsageError(execute("generate", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "--backend", "tpu"), "expected cpu or cuda");
        assertUsageError(execute("bench", "--model", model.toString(), "--batch", "1,0"), "--batch sizes must be >= 1");
        assertUsageError(execute("generate", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "--tp", "4"), "tensor-parallel size 4 does not divide n_heads (2)");
        assertUsageError(execute("generate", "--model", tokenizer.toString(), "--tokenizer", tokenizer.toString()),
                "--model");
        assertUsageError(execute("bench", "--model", "synthetic:stories15M", "--tp", "3"), "does not divide vocab_size");
        assertUsageError(execute("bench", "--model", "synthetic:stories15M", "--kernels", "fast"), "--kernel 'fast'");
    }

    @Test
    void aPipelineDegreeTheModelCannotServeIsOneLineAndExit2() throws IOException {
        Path fiveLayers = dir.resolve("five.bin");
        io.streaminfer.model.SyntheticCheckpoint.write(fiveLayers,
                io.streaminfer.model.ModelConfig.llama2c(8, 16, 5, 2, 2, 384, 8, true), 2);
        String expected = "--pp 6 exceeds the model's 5 layers: a pipeline has at most one stage per layer";
        assertUsageError(execute("generate", "--model", fiveLayers.toString(), "--tokenizer", tokenizer.toString(),
                "--prompt", "x", "--pp", "6"), expected);
        assertUsageError(execute("bench", "--model", "synthetic:stories260K", "--pp", "1,6"), expected);
        assertUsageError(execute("run", "--model", fiveLayers.toString(), "--tokenizer", tokenizer.toString(),
                "--input", model.toString(), "--output", dir.resolve("out").toString(), "--pp", "6"), expected);
        assertUsageError(execute("bench", "--model", "synthetic:stories260K", "--pp", "0"), "--pp must be >= 1, got 0");
        assertUsageError(execute("generate", "--model", fiveLayers.toString(), "--tokenizer", tokenizer.toString(),
                "--pp", "1,2"), "--pp takes one degree here, got [1, 2]");
        assertUsageError(execute("bench", "--model", "synthetic:stories260K", "--pp", "2", "--overlap", "maybe"),
                "--overlap 'maybe' is not on or off");
        assertUsageError(execute("bench-job", "--model", "synthetic:stories260K", "--tokenizer", tokenizer.toString(),
                "--pp", "0"), "--pp");
        JobCommand run = checkOnly("run", "--model", fiveLayers.toString(), "--tokenizer", tokenizer.toString(),
                "--bootstrap-servers", "h:9092", "--pp", "2");
        assertEquals(2, run.configuration().get(JobOptions.PIPELINE_PARALLELISM));
        // --pp-layers: counts that do not split the model, on every command that takes them
        String sum = "--pp-layers 3,3 holds 6 layers, the model has 5";
        assertUsageError(execute("generate", "--model", fiveLayers.toString(), "--tokenizer", tokenizer.toString(),
                "--prompt", "x", "--pp", "2", "--pp-layers", "3,3"), sum);
        assertUsageError(execute("bench", "--model", "synthetic:stories260K", "--pp", "1,2", "--pp-layers", "3,3"), sum);
        assertUsageError(execute("bench", "--model", "synthetic:stories260K", "--pp", "3", "--pp-layers", "4,1"),
                "--pp-layers 4,1 gives 2 stages, --pp is 3");
        assertUsageError(execute("run", "--model", fiveLayers.toString(), "--tokenizer", tokenizer.toString(),
                "--bootstrap-servers", "h:9092", "--pp", "2", "--pp-layers", "3,3"), sum);
        assertUsageError(execute("run", "--model", fiveLayers.toString(), "--tokenizer", tokenizer.toString(),
                "--bootstrap-servers", "h:9092", "--pp", "2", "--pp-layers", "x"),
                "--pp-layers takes layer counts like 5,1, got 'x'");
        assertUsageError(execute("bench-job", "--model", fiveLayers.toString(), "--tokenizer", tokenizer.toString(),
                "--pp", "2", "--pp-layers", "3,3"), sum);
        JobCommand split = checkOnly("run", "--model", fiveLayers.toString(), "--tokenizer", tokenizer.toString(),
                "--bootstrap-servers", "h:9092", "--pp", "2", "--pp-layers", "4,1");
        assertEquals(List.of(4, 1), JobOptions.pipelineLayers(split.configuration()));
    }

    @Test
    void aBadModelOrTpIsExit2OnEveryCommand() throws IOException {
        Path garbage = Files.write(dir.resolve("garbage.bin"), "not a checkpoint at all, just text".getBytes());
        String[] kafka = {"--bootstrap-servers", "h:9092"};
        for (String[] command : List.of(new String[] {"generate"}, new String[] {"bench"},
                new String[] {"bench-job", "--tokenizer", tokenizer.toString()}, concat(new String[] {"run"}, kafka),
                new String[] {"demo"})) {
            String[] withTokenizer = command[0].equals("bench") || command[0].equals("bench-job") ? command
                    : concat(command, new String[] {"--tokenizer", tokenizer.toString()});
            assertUsageError(execute(concat(withTokenizer, new String[] {"--model", garbage.toString()})),
                    "--model " + garbage);
            assertUsageError(execute(concat(withTokenizer, new String[] {"--model", model.toString(), "--tp", "3"})),
                    "--tp 3 does not fit --model " + model + ": tensor-parallel size 3 does not divide");
        }
        assertUsageError(execute("bench-job", "--model", "synthetic:stories260K", "--tokenizer", tokenizer.toString(),
                "--tp", "3"), "--tp 3 does not fit --model synthetic:stories260K");
    }

    @Test
    void aTokenizerThatIsNotTheModelsIsExit2NamingBoth() throws IOException {
        Path bigger = dir.resolve("t512.bin");
        io.streaminfer.model.SyntheticTokenizer.write(bigger, 512);
        byte[] whole = Files.readAllBytes(tokenizer);
        Path truncated = Files.write(dir.resolve("truncated.bin"), java.util.Arrays.copyOf(whole, whole.length / 2));
        Path garbage = Files.write(dir.resolve("garbage-tok.bin"), new byte[] {(byte) 0xff, 0x7f, 0x12, 0x34, 9, 9, 9});
        for (Path bad : List.of(bigger, truncated, garbage)) {
            String both = "--tokenizer " + bad + " does not fit --model " + model + ": ";
            assertUsageError(execute("generate", "--model", model.toString(), "--tokenizer", bad.toString(), "-p", "x"),
                    both);
            assertUsageError(execute("run", "--model", model.toString(), "--tokenizer", bad.toString(),
                    "--bootstrap-servers", "h:9092"), both);
            assertUsageError(execute("bench-job", "--model", model.toString(), "--tokenizer", bad.toString()), both);
            assertUsageError(execute("demo", "--model", model.toString(), "--tokenizer", bad.toString()), both);
        }
        assertUsageError(execute("run", "--model", model.toString(), "--tokenizer", bigger.toString(),
                "--bootstrap-servers", "h:9092"), "the tokenizer has 512 entries but the model's vocabulary has 384");
        assertUsageError(execute("run", "--model", model.toString(), "--tokenizer", truncated.toString(),
                "--bootstrap-servers", "h:9092"), "ends inside an entry");
    }

    @Test
    void anOutputThatCannotBeCreatedIsExit2() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self")), "needs Linux /proc");
        // Nothing can be created in /proc, not even by root (whom permission bits do not stop).
        assertUsageError(execute("run", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "--input", model.toString(), "--output", "/proc/streaminfer-out/x"),
                "--output: cannot create directory /proc/streaminfer-out/x");
    }

    @Test
    void runNeedsExactlyOneMode() {
        String[] files = {"run", "--model", model.toString(), "--tokenizer", tokenizer.toString()};
        assertUsageError(execute(files), "missing --bootstrap-servers");
        assertUsageError(execute(concat(files, new String[] {"--bootstrap-servers", "h:1", "--input", model.toString(),
                "--output", dir.toString()})), "not both");
        assertUsageError(execute(concat(files, new String[] {"--input", model.toString()})), "--input needs --output");
        assertUsageError(execute(concat(files, new String[] {"--input", model.toString(), "--output", model.toString()})),
                "--output: is a file");
    }

    @Test
    void runBuildsATypedConfiguration() {
        RunCommand run = checkOnly("run", "--bootstrap-servers", "b1:9092,b2:9092", "--model", model.toString(),
                "--tokenizer", tokenizer.toString(), "--tp", "2", "--parallelism", "2", "--max-batch", "32",
                "--checkpoint-interval", "500ms", "--backend", "cuda", "--group-id", "g",
                "--kafka-property", "security.protocol=SASL_SSL", "--kafka-property", "sasl.jaas.config=a=b c");
        Configuration c = run.configuration();
        assertEquals("b1:9092,b2:9092", c.get(JobOptions.BOOTSTRAP_SERVERS));
        assertEquals(2, c.get(JobOptions.TENSOR_PARALLELISM));
        assertEquals(2, c.get(JobOptions.DATA_PARALLELISM));
        assertEquals(32, c.get(JobOptions.MAX_BATCH));
        assertEquals(Duration.ofMillis(500), c.get(JobOptions.CHECKPOINT_INTERVAL));
        assertEquals(JobOptions.Backend.CUDA, c.get(JobOptions.BACKEND));
        assertEquals("g", c.get(JobOptions.GROUP_ID));
        assertEquals(Map.of("security.protocol", "SASL_SSL", "sasl.jaas.config", "a=b c"), c.get(JobOptions.KAFKA_PROPERTIES));
        assertEquals("prompts", c.get(JobOptions.INPUT_TOPIC), "defaults stay");
        assertEquals(64, JobOptions.MAX_BATCH.defaultValue());
    }

    @Test
    void kvCacheFlagsAreTypedAndABadSizeIsOneLine() {
        RunCommand run = checkOnly("run", "--bootstrap-servers", "b:9092", "--model", model.toString(),
                "--tokenizer", tokenizer.toString(), "--kv-cache-memory", "512m", "--prefix-cache", "off");
        Configuration c = run.configuration();
        assertEquals("512m", c.get(JobOptions.KV_CACHE_MEMORY));
        assertEquals(JobOptions.Switch.OFF, c.get(JobOptions.PREFIX_CACHE));
        assertEquals(JobOptions.Switch.ON, JobOptions.PREFIX_CACHE.defaultValue());
        assertEquals(512L << 20, io.streaminfer.engine.KvCacheSettings.parseSize("--kv-cache-memory", "512m"));
        assertEquals(3L << 30, io.streaminfer.engine.KvCacheSettings.parseSize("--kv-cache-memory", "3G"));
        assertUsageError(execute("run", "--bootstrap-servers", "b:9092", "--model", model.toString(), "--tokenizer",
                tokenizer.toString(), "--kv-cache-memory", "lots"), "--kv-cache-memory 'lots' is not a size");
        assertUsageError(execute("bench", "--model", "synthetic:stories260K", "--kv-cache-memory", "-1m"),
                "--kv-cache-memory '-1m' is not a size");
    }

    @Test
    void offlineRunAcceptsAFileAndAnOutputDirectoryToCreate() {
        RunCommand run = checkOnly("run", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "--input", model.toString(), "--output", dir.resolve("new/out").toString());
        assertEquals(model.toString(), run.configuration().get(JobOptions.INPUT_PATH));
    }

    @Test
    void demoFindsTheSharedModelsOrNamesWhatIsMissing() throws IOException {
        // Without stories260K the demo falls back to a synthetic model and tokenizer (and says so when it runs).
        DemoCommand synthetic = checkOnly("demo", "--models-dir", dir.toString());
        assertTrue(synthetic.configuration().get(JobOptions.MODEL_PATH).contains("synthetic"),
                synthetic.configuration().get(JobOptions.MODEL_PATH));
        assertTrue(Files.isRegularFile(Path.of(synthetic.configuration().get(JobOptions.TOKENIZER_PATH))));
        Files.copy(model, dir.resolve("stories260K.bin"));
        Files.copy(tokenizer, dir.resolve("tok512.bin"));
        DemoCommand demo = checkOnly("demo", "--models-dir", dir.toString(), "--prompts", "3");
        Configuration c = demo.configuration();
        assertEquals(dir.resolve("stories260K.bin").toString(), c.get(JobOptions.MODEL_PATH));
        assertEquals(3, c.get(JobOptions.DEMO_PROMPTS));
    }

    @Test
    void aGpuBackendWithoutAGpuIsOneLineAndExit2() {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.streaminfer.cuda.CudaSupport.unavailableReason() != null,
                "a CUDA device is present: the refusal cannot be tested here");
        assertUsageError(execute("generate", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "-p", "Once", "--backend", "cuda"), "backend cuda cannot run here");
        assertUsageError(execute("bench", "--model", "synthetic:stories260K", "--backend", "cuda"),
                "backend cuda cannot run here");
        assertUsageError(execute("demo", "--models-dir", dir.toString(), "--backend", "cuda"),
                "backend cuda cannot run here");
        // Under java -jar the job computes in this process: refused before any broker is asked.
        assertUsageError(execute("run", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "--bootstrap-servers", "127.0.0.1:1", "--backend", "cuda"), "backend cuda cannot run here");
    }

    @Test
    void generateBuildsSamplingParams() {
        Outcome o = execute("generate", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "-p", "Once", "-n", "10", "-t", "0", "--stop", ".", "--stop", "!");
        GenerateCommand g = (GenerateCommand) o.cli().getSubcommands().get("generate").getCommand();
        assertEquals(10, g.params().maxTokens());
        assertTrue(g.params().isGreedy());
        assertEquals(List.of(".", "!"), g.params().stop());
        assertEquals(io.streaminfer.job.convert.SeedDerivation.seedFromId("Once"), g.params().seed());
    }

    @Test
    void beforeRunHookRunsOnlyWhenACommandRuns() {
        AtomicInteger runs = new AtomicInteger();
        execute(runs::incrementAndGet, "--help");
        execute(runs::incrementAndGet, "run", "--help");
        execute(runs::incrementAndGet, "generate", "--bogus");
        execute(runs::incrementAndGet, "generate", "--model", dir.resolve("none").toString());
        assertEquals(0, runs.get(), "no relaunch for help or usage errors");
        execute(runs::incrementAndGet, "generate", "--model", model.toString(), "--tokenizer", tokenizer.toString());
        assertEquals(1, runs.get());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
