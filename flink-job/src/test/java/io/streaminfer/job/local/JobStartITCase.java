package io.streaminfer.job.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.job.JobOptions;
import io.streaminfer.job.Main;
import io.streaminfer.job.TestModels;
import io.streaminfer.job.cli.Cli;
import io.streaminfer.job.cli.RunCommand;
import io.streaminfer.job.codec.AvroCodec;
import io.streaminfer.job.kafka.EmbeddedKafka;
import io.streaminfer.job.kafka.TestKeys;
import io.streaminfer.job.pipeline.SetupFailedException;
import io.streaminfer.job.pipeline.StreamingJob;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import io.streaminfer.schemas.PromptRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * How the streaming job starts, against one broker with a plaintext and a TLS listener (keys made with
 * keytool here) on one MiniCluster: over TLS end to end, exactly once; and every failure that would repeat
 * on each restart (wrong trust store, no broker, a missing topic, a tokenizer the TaskManager cannot read)
 * ends the start once, in one line, instead of a restart loop.
 */
class JobStartITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .build());

    @TempDir
    static Path dir;
    static TestKeys.Pair keys;
    static EmbeddedKafka kafka;
    static TestModels.Model model;

    @BeforeAll
    static void start() throws Exception {
        keys = TestKeys.make(dir, "broker");
        kafka = new EmbeddedKafka(Map.of(), keys.brokerTls()).start();
        model = TestModels.stories260KOrSynthetic();
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static void topics(String name) {
        kafka.createTopic(name + "-prompts", 2);
        kafka.createTopic(name + "-completions", 2);
        kafka.createTopic(name + "-dlq", 1);
    }

    /** The flags of {@code run} for the topics of {@code name}, then {@code more}. */
    private static List<String> runArgs(String name, String servers, List<String> more) {
        List<String> args = new ArrayList<>(List.of("run", "--bootstrap-servers", servers,
                "--input-topic", name + "-prompts", "--output-topic", name + "-completions",
                "--dead-letter-topic", name + "-dlq", "--group-id", name, "--transactional-id-prefix", name,
                "--model", model.checkpoint().toString(), "--tokenizer", model.tokenizer().toString(),
                "--max-batch", "8", "--checkpoint-interval", "300ms"));
        args.addAll(more);
        return args;
    }

    /** The configuration {@code run} checks out of these flags, as the CLI makes it. */
    private static Configuration runConfiguration(List<String> args) {
        CommandLine cl = RunCommand.commandLine();
        cl.parseArgs(args.subList(1, args.size()).toArray(String[]::new));
        RunCommand run = cl.getCommand();
        run.check();
        return run.configuration();
    }

    private static StreamExecutionEnvironment environment() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        // Restarts allowed: a failure that is not marked non-recoverable would be retried.
        Configuration restart = new Configuration();
        restart.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        restart.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 5);
        restart.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(500));
        env.configure(restart);
        return env;
    }

    /** Result of one CLI invocation. */
    private record Outcome(int exit, String err, long millis) {}

    private static Outcome cli(List<String> args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        long start = System.nanoTime();
        int exit = cl.execute(args.toArray(String[]::new));
        return new Outcome(exit, err.toString(), (System.nanoTime() - start) / 1_000_000);
    }

    private static void assertOneLineFailure(Outcome o, String fragment) {
        assertEquals(Cli.EXIT_FAILURE, o.exit(), o.err());
        assertEquals(1, o.err().lines().count(), "one line: " + o.err());
        assertTrue(o.err().contains(fragment), o.err());
        assertFalse(o.err().contains("Exception"), "no exception names: " + o.err());
    }

    private static Properties clientProperties(List<String> settings) {
        Properties props = new Properties();
        for (String kv : settings) {
            int eq = kv.indexOf('=');
            props.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return props;
    }

    @Test
    void overTlsEveryPromptIsAnsweredExactlyOnce() throws Exception {
        String name = "tls";
        topics(name);
        List<String> tls = TestKeys.clientProperties(keys.trustStore());
        List<String> more = new ArrayList<>();
        tls.forEach(p -> more.addAll(List.of("--kafka-property", p)));
        Configuration conf = runConfiguration(runArgs(name, kafka.sslBootstrapServers(), more));
        assertEquals("SSL", conf.get(JobOptions.KAFKA_PROPERTIES).get("security.protocol"));

        int count = 6;
        Properties client = clientProperties(tls);
        client.put("bootstrap.servers", kafka.sslBootstrapServers());
        Properties producer = new Properties();
        producer.putAll(client);
        producer.put("key.serializer", ByteArraySerializer.class.getName());
        producer.put("value.serializer", ByteArraySerializer.class.getName());
        AvroCodec<PromptRecord> prompts = new AvroCodec<>(PromptRecord.class);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(producer)) {
            for (int i = 0; i < count; i++) {
                PromptRecord prompt = PromptRecord.newBuilder().setId("tls-" + i).setPrompt("Once upon a time")
                        .setMaxTokens(8 + i).setTemperature(i % 2 == 0 ? 0f : 0.8f).build();
                p.send(new ProducerRecord<>(name + "-prompts", prompt.getId().getBytes(), prompts.encode(prompt)));
            }
        }

        StreamExecutionEnvironment env = environment();
        StreamingJob.build(env, conf);
        JobClient job = env.executeAsync(name);
        Map<String, Integer> seen = new HashMap<>();
        try {
            Properties consumer = new Properties();
            consumer.putAll(client);
            consumer.put("group.id", "tls-reader");
            consumer.put("isolation.level", "read_committed");
            consumer.put("auto.offset.reset", "earliest");
            consumer.put("key.deserializer", ByteArrayDeserializer.class.getName());
            consumer.put("value.deserializer", ByteArrayDeserializer.class.getName());
            AvroCodec<CompletionRecord> completions = new AvroCodec<>(CompletionRecord.class);
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            long graceEnd = Long.MAX_VALUE;
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumer)) {
                c.subscribe(List.of(name + "-completions"));
                while (System.nanoTime() < Math.min(deadline, graceEnd)) {
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                        CompletionRecord completion = completions.decode(r.value());
                        assertEquals(CompletionStatus.OK, completion.getStatus(), completion.getError());
                        seen.merge(completion.getId(), 1, Integer::sum);
                    }
                    if (graceEnd == Long.MAX_VALUE && seen.size() >= count) {
                        graceEnd = System.nanoTime() + Duration.ofSeconds(2).toNanos(); // a duplicate would show
                    }
                }
            }
        } finally {
            job.cancel().get();
        }
        assertEquals(count, seen.size(), "every id answered: " + seen);
        seen.forEach((id, n) -> assertEquals(1, n, id + " exactly once"));
    }

    @Test
    void aTrustStoreThatDoesNotTrustTheBrokerFailsTheStartInOneLine() {
        String name = "wrong-trust";
        topics(name);
        // The JDK's own trust store (the JKS type reads PKCS12 too): public CAs, not the broker's certificate.
        Path cacerts = Path.of(System.getProperty("java.home"), "lib", "security", "cacerts");
        List<String> more = new ArrayList<>();
        for (String p : List.of("security.protocol=SSL", "ssl.truststore.location=" + cacerts,
                "ssl.truststore.password=changeit", "ssl.truststore.type=JKS")) {
            more.addAll(List.of("--kafka-property", p));
        }
        Outcome o = cli(runArgs(name, kafka.sslBootstrapServers(), more));
        assertOneLineFailure(o, "TLS handshake with Kafka at " + kafka.sslBootstrapServers() + " failed");
        assertTrue(o.err().contains("ssl.truststore.location"), o.err());
    }

    @Test
    void noBrokerFailsTheStartWithinTheTimeout() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Outcome o = cli(runArgs("nobody", "127.0.0.1:" + port,
                List.of("--kafka-property", "default.api.timeout.ms=2000")));
        assertOneLineFailure(o, "cannot reach Kafka at 127.0.0.1:" + port + " within 2000 ms");
        assertTrue(o.millis() < 30_000, "bounded by the timeout, took " + o.millis() + " ms");
    }

    @Test
    void aMissingTopicIsNamedAtStart() {
        kafka.createTopic("half-prompts", 1);
        Outcome o = cli(runArgs("half", kafka.bootstrapServers(), List.of()));
        assertOneLineFailure(o, "has no topic half-completions, half-dlq: create them first");
    }

    @Test
    void aTokenizerTheTaskManagerCannotReadFailsTheJobOnceAndTheDemoSaysWhy() throws Exception {
        String name = "setup";
        topics(name);
        Path tokenizer = Files.copy(model.tokenizer(), dir.resolve("vanishing-tokenizer.bin"));
        List<String> args = runArgs(name, kafka.bootstrapServers(), List.of());
        args.set(args.indexOf("--tokenizer") + 1, tokenizer.toString());
        Configuration conf = runConfiguration(args);
        StreamExecutionEnvironment env = environment();
        StreamingJob.build(env, conf); // the client checked it; the TaskManagers will not find it
        Files.delete(tokenizer);
        JobClient job = env.executeAsync(name);
        StringWriter printed = new StringWriter();
        long start = System.nanoTime();
        Demo.Answered answered = Demo.consume(conf, kafka.bootstrapServers(), 1, 0, new PrintWriter(printed), job,
                Duration.ofMinutes(3));
        assertEquals(Demo.Answered.JOB_ENDED, answered, "stops waiting once the job has ended");
        assertTrue(System.nanoTime() - start < Duration.ofMinutes(2).toNanos(), "not the deadline");
        String why = JobFailures.of(job);
        // The validation or a replica, whichever opens it first, names the file.
        assertTrue(why.contains("cannot load") && why.contains(tokenizer.toString()) && why.contains("every restart"),
                why);

        Throwable failure = assertThrows(Exception.class, () -> job.getJobExecutionResult().get());
        assertTrue(ExceptionUtils.findThrowable(failure, SetupFailedException.class).isPresent(),
                () -> ExceptionUtils.stringifyException(failure));
        // Flink's failover saw the non-recoverable cause: no restart was tried (5 were allowed).
        assertTrue(ExceptionUtils.findThrowableWithMessage(failure, "The failure is not recoverable").isPresent(),
                () -> ExceptionUtils.stringifyException(failure));
    }
}
