package io.streaminfer.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.job.JobOptions;
import io.streaminfer.job.codec.AvroCodec;
import io.streaminfer.job.convert.SeedDerivation;
import io.streaminfer.job.kafka.EmbeddedKafkaExtension;
import io.streaminfer.job.local.JobRunner;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The streaming job on one MiniCluster against one in-process broker: prompts over a 4-partition topic,
 * DP=2 replicas x TP=2 (and DP=2 x PP=2 through failures), completions read back with read_committed.
 */
class StreamingJobITCase {
    @RegisterExtension
    static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4)
                    .build());

    private static Configuration topics(Configuration conf, String name) {
        conf.set(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        conf.set(JobOptions.INPUT_TOPIC, name + "-prompts");
        conf.set(JobOptions.OUTPUT_TOPIC, name + "-completions");
        conf.set(JobOptions.DEAD_LETTER_TOPIC, name + "-dlq");
        conf.set(JobOptions.GROUP_ID, name);
        conf.set(JobOptions.TRANSACTIONAL_ID_PREFIX, name);
        kafka.createTopic(name + "-prompts", 4);
        kafka.createTopic(name + "-completions", 2);
        kafka.createTopic(name + "-dlq", 1);
        return conf;
    }

    private static StreamExecutionEnvironment environment() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        Configuration restart = new Configuration();
        restart.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        restart.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 5);
        restart.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        env.configure(JobRunner.flinkSettings(restart));
        env.configure(restart);
        return env;
    }

    /** The job, submitted to the MiniCluster; close() cancels it. */
    private record RunningJob(JobClient client) implements AutoCloseable {
        static RunningJob start(Configuration conf, String name, UnaryOperator<DataStream<CompletionRecord>> beforeSink)
                throws Exception {
            StreamExecutionEnvironment env = environment();
            StreamingJob.build(env, conf, beforeSink);
            return new RunningJob(env.executeAsync(name));
        }

        @Override
        public void close() throws Exception {
            client.cancel().get();
        }
    }

    /** The job's output topics, read with read_committed (see {@link JobFixtures#consume}). */
    private static JobFixtures.Seen consume(Configuration conf, int completions, int deadLetters, Duration timeout,
                                            Duration grace) throws Exception {
        return JobFixtures.consume(kafka.bootstrapServers(), conf.get(JobOptions.OUTPUT_TOPIC),
                conf.get(JobOptions.DEAD_LETTER_TOPIC), completions, deadLetters, timeout, grace);
    }

    /**
     * A run of the job at DP=2 x TP={@code tp} x PP={@code pp} over {@code count} generated prompts, and what
     * the engine alone (PP=1) gives for them.
     */
    private record PromptRun(Configuration conf, List<PromptRecord> prompts, Map<String, GenerationResult> expected,
                             JobFixtures.Seen seen) {
        static PromptRun of(String name, String idPrefix, int count, int tp, int pp,
                            UnaryOperator<DataStream<CompletionRecord>> beforeSink, Duration timeout, Duration grace)
                throws Exception {
            return of(name, idPrefix, count, tp, pp, beforeSink, timeout, grace, Set.of());
        }

        /**
         * As above, the prompts with an id in {@code sampled} asking for {@value #SAMPLES} samples; what the engine
         * gives for them with n = 1 is expected under their id (choice 0), and for sample k under id-k, an n = 1
         * request with the seed {@link SeedDerivation#sampleSeed} derives.
         */
        static PromptRun of(String name, String idPrefix, int count, int tp, int pp,
                            UnaryOperator<DataStream<CompletionRecord>> beforeSink, Duration timeout, Duration grace,
                            Set<String> sampled) throws Exception {
            Configuration conf = topics(JobFixtures.options(2, tp), name);
            conf.set(JobOptions.PIPELINE_PARALLELISM, pp);
            List<PromptRecord> prompts = new java.util.ArrayList<>();
            List<PromptRecord> separate = new java.util.ArrayList<>();
            for (PromptRecord p : JobFixtures.prompts(idPrefix, count)) {
                separate.add(p);
                if (sampled.contains(p.getId())) {
                    long seed = p.getSeed() != null ? p.getSeed() : SeedDerivation.seedFromId(p.getId());
                    for (int k = 1; k < SAMPLES; k++) {
                        separate.add(PromptRecord.newBuilder(p).setId(p.getId() + "-" + k)
                                .setSeed(SeedDerivation.sampleSeed(seed, k)).build());
                    }
                    p = PromptRecord.newBuilder(p).setN(SAMPLES).build();
                }
                prompts.add(p);
            }
            Map<String, GenerationResult> expected = JobFixtures.expected(conf, separate);
            JobFixtures.produce(kafka.bootstrapServers(), conf.get(JobOptions.INPUT_TOPIC), prompts, List.of());
            try (RunningJob job = RunningJob.start(conf, name, beforeSink)) {
                return new PromptRun(conf, prompts, expected, consume(conf, prompts.size(), 0, timeout, grace));
            }
        }
    }

    private static final int SAMPLES = 3;

    private static void assertMatchesEngine(Map<String, GenerationResult> expected, List<CompletionRecord> completions) {
        for (CompletionRecord c : completions) {
            if (c.getChoices() != null) {
                assertEquals(SAMPLES, c.getChoices().size(), c.getId());
                for (int k = 1; k < SAMPLES; k++) {
                    assertEquals(java.util.Arrays.stream(expected.get(c.getId() + "-" + k).tokenIds()).boxed().toList(),
                            c.getChoices().get(k).getTokenIds(), "tokens of " + c.getId() + " sample " + k);
                }
            }
            GenerationResult e = expected.get(c.getId());
            assertNotNull(e, "unexpected id " + c.getId());
            assertEquals(CompletionStatus.OK, c.getStatus(), c.getId() + ": " + c.getError());
            assertEquals(java.util.Arrays.stream(e.tokenIds()).boxed().toList(), c.getTokenIds(), "tokens of " + c.getId());
            assertEquals(e.text(), c.getText(), "text of " + c.getId());
        }
    }

    @Test
    void everyPromptGetsExactlyOneCompletionEqualToTheEngineAlone() throws Exception {
        PromptRun run = PromptRun.of("plain", "p", 24, 2, 1, UnaryOperator.identity(), Duration.ofMinutes(3),
                Duration.ofSeconds(2));
        Configuration conf = run.conf();
        List<PromptRecord> prompts = run.prompts();
        JobFixtures.Seen seen = run.seen();
        assertEquals(prompts.size(), seen.completions().size(), "one completion per prompt: " + seen.completionCounts());
        assertEquals(prompts.stream().map(PromptRecord::getId).collect(Collectors.toSet()), seen.completionCounts().keySet());
        assertEquals(0, seen.deadLetters().size());
        assertMatchesEngine(run.expected(), seen.completions());
        Set<Integer> replicas = seen.completions().stream().map(CompletionRecord::getReplica).collect(Collectors.toSet());
        assertEquals(Set.of(0, 1), replicas, "both DP replicas served prompts");
        // Equal keys always reach the same replica.
        Map<String, Set<Integer>> replicaOfKey = new TreeMap<>();
        for (CompletionRecord c : seen.completions()) {
            if (c.getKey() != null) {
                replicaOfKey.computeIfAbsent(c.getKey(), k -> new java.util.HashSet<>()).add(c.getReplica());
            }
            assertEquals(2, c.getTpSize());
            assertEquals(ReplicaConfig.modelNameOf(conf.get(JobOptions.MODEL_PATH)), c.getModel());
        }
        replicaOfKey.forEach((key, rs) -> assertEquals(1, rs.size(), key + " went to replicas " + rs));
    }

    /** Fails subtask 0 right before the sink, on its first two attempts. */
    static final class FailFirstTwoAttempts extends RichMapFunction<CompletionRecord, CompletionRecord> {
        private int seen;

        @Override
        public CompletionRecord map(CompletionRecord value) {
            seen++;
            if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0
                    && getRuntimeContext().getTaskInfo().getAttemptNumber() < 2 && seen == 4) {
                throw new IllegalStateException("injected failure, attempt "
                        + getRuntimeContext().getTaskInfo().getAttemptNumber());
            }
            return value;
        }
    }

    /**
     * At DP=2 x PP=2: two stages per replica, micro-batches in flight, restored twice from checkpoints; two prompts
     * ask for 3 samples each, joined after inference in checkpointed state.
     */
    @Test
    void failuresAndRestartsLoseAndDuplicateNothing() throws Exception {
        PromptRun run = PromptRun.of("failing", "f", 30, 1, 2, (DataStream<CompletionRecord> completions) -> completions
                .map(new FailFirstTwoAttempts(), completions.getType()).setParallelism(2).name("fail-twice"),
                Duration.ofMinutes(4), Duration.ofSeconds(3), Set.of("f1", "f4"));
        for (String id : List.of("f1", "f4")) {
            CompletionRecord c = run.seen().completions().stream().filter(r -> r.getId().equals(id)).findFirst()
                    .orElseThrow();
            assertNotNull(c.getChoices(), id + " has its samples");
        }
        Map<String, Integer> counts = run.seen().completionCounts();
        assertEquals(run.prompts().size(), counts.size(), "no id lost: " + counts);
        counts.forEach((id, n) -> assertEquals(1, n, id + " seen " + n + " times"));
        assertMatchesEngine(run.expected(), run.seen().completions());
    }

    @Test
    void badInputBecomesDeadLettersAndTheJobGoesOn() throws Exception {
        Configuration conf = topics(JobFixtures.options(2, 1), "bad");
        List<PromptRecord> good = JobFixtures.prompts("ok", 4);
        String tooLong = "Once upon a time ".repeat(400);
        List<PromptRecord> invalid = List.of(
                PromptRecord.newBuilder().setId("no-prompt").build(),
                PromptRecord.newBuilder().setId("cold").setPrompt("Hi").setTemperature(-0.5f).build(),
                PromptRecord.newBuilder().setId("top-p").setPrompt("Hi").setTopP(1.5f).build(),
                PromptRecord.newBuilder().setId("zero-tokens").setPrompt("Hi").setMaxTokens(0).build(),
                PromptRecord.newBuilder().setId("other-model").setPrompt("Hi").setModel("llama-70b").build(),
                PromptRecord.newBuilder().setId("too-long").setPrompt(tooLong).build());
        List<byte[]> garbage = List.of("definitely not avro".getBytes(StandardCharsets.UTF_8), new byte[0]);
        // Two records with one id, back to back on one partition: the second arrives while the first (400
        // decode steps) is in flight, so it must become a dead letter, not a second completion for the id.
        PromptRecord first = PromptRecord.newBuilder().setId("twice").setPrompt("Once upon a time")
                .setMaxTokens(400).build();
        PromptRecord copy = PromptRecord.newBuilder().setId("twice").setPrompt("Hi").setMaxTokens(5)
                .setMetadata(Map.of("attempt", "2")).build();
        List<PromptRecord> all = new java.util.ArrayList<>(good);
        all.addAll(invalid);
        all.add(first);
        all.add(copy);
        JobFixtures.produce(kafka.bootstrapServers(), conf.get(JobOptions.INPUT_TOPIC), all, garbage);

        JobFixtures.Seen seen;
        try (RunningJob job = RunningJob.start(conf, "bad", UnaryOperator.identity())) {
            seen = consume(conf, good.size() + 1, invalid.size() + garbage.size() + 1, Duration.ofMinutes(3),
                    Duration.ofSeconds(2));
            // The job is still running after all that.
            assertEquals(org.apache.flink.api.common.JobStatus.RUNNING, job.client().getJobStatus().get());
        }
        Set<String> answered = good.stream().map(PromptRecord::getId).collect(Collectors.toCollection(java.util.HashSet::new));
        answered.add("twice");
        assertEquals(answered, seen.completionCounts().keySet());
        assertEquals(good.size() + 1, seen.completions().size(), "one completion per id");
        CompletionRecord twice = seen.completions().stream().filter(c -> c.getId().equals("twice")).findFirst()
                .orElseThrow();
        assertTrue(twice.getTokenIds().size() > 5, "the completion is the first request's");
        Map<String, String> reasons = new TreeMap<>();
        int unnamed = 0;
        AvroCodec<PromptRecord> codec = new AvroCodec<>(PromptRecord.class);
        for (DeadLetterRecord d : seen.deadLetters()) {
            assertNotNull(d.getReason());
            assertNotNull(d.getOriginal(), "dead letters keep the original bytes");
            // every dead letter, also one decided by validation or the operator, says where it came from
            assertEquals(conf.get(JobOptions.INPUT_TOPIC), d.getSourceTopic(), d.toString());
            assertNotNull(d.getSourcePartition(), d.toString());
            assertNotNull(d.getSourceOffset(), d.toString());
            if (d.getId() == null) {
                unnamed++;
            } else {
                reasons.put(d.getId(), d.getReason());
                byte[] original = new byte[d.getOriginal().remaining()];
                d.getOriginal().duplicate().get(original);
                PromptRecord kept = codec.decode(original);
                assertEquals(d.getId(), kept.getId(), "the original record is kept");
                if (d.getId().equals("twice")) {
                    assertEquals("Hi", kept.getPrompt(), "the copy is the one kept");
                    assertEquals(Map.of("attempt", "2"), kept.getMetadata());
                }
            }
        }
        assertEquals(garbage.size(), unnamed, "undecodable bytes: " + seen.deadLetters());
        assertEquals(invalid.size() + 1, reasons.size(), reasons.toString());
        assertTrue(reasons.get("twice").contains("in flight"), reasons.get("twice"));
        assertTrue(reasons.get("no-prompt").contains("prompt"), reasons.get("no-prompt"));
        assertTrue(reasons.get("cold").contains("temperature"), reasons.get("cold"));
        assertTrue(reasons.get("top-p").contains("top_p"), reasons.get("top-p"));
        assertTrue(reasons.get("zero-tokens").contains("max_tokens"), reasons.get("zero-tokens"));
        assertTrue(reasons.get("other-model").contains("llama-70b"), reasons.get("other-model"));
        assertTrue(reasons.get("too-long").contains("context"), reasons.get("too-long"));
    }
}
