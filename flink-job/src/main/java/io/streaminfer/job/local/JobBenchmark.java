package io.streaminfer.job.local;

import io.streaminfer.engine.BlockingReplica;
import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.job.JobOptions;
import io.streaminfer.job.codec.AvroCodec;
import io.streaminfer.job.convert.PromptValidator;
import io.streaminfer.job.kafka.EmbeddedKafka;
import io.streaminfer.job.pipeline.EngineSettings;
import io.streaminfer.job.pipeline.InferencePipeline;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.PromptRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Flink's overhead, measured: the same prompts through the bare engine (DP replicas in this JVM, no
 * Flink, no Kafka) and through the streaming job (Kafka in, exactly-once Kafka out, on a MiniCluster).
 */
public final class JobBenchmark {
    private static final List<String> STARTERS = List.of("Once upon a time", "The little dog", "One day, a girl",
            "Tom had a big red ball", "The sun was shining", "A cat sat on the");

    /**
     * @param engineSeconds bare engine: from the first submission to the last result
     * @param jobWallSeconds the job: from submission (Flink start, model load) to the last committed completion
     * @param jobSteadySeconds the job: from the first committed completion to the last
     */
    public record Result(int prompts, long tokens, double engineSeconds, double jobWallSeconds,
                         double jobSteadySeconds, long jobFirstMillis) {
        public String table() {
            double engine = tokens / engineSeconds;
            double wall = tokens / jobWallSeconds;
            return String.format(Locale.ROOT, """
                    prompts %d, generated tokens %d
                    bare engine           %8.1f tok/s  (%.1f s)
                    job, wall clock       %8.1f tok/s  (%.1f s, incl. Flink start, model load; first completion after %d ms)
                    job, steady state     %8.1f tok/s  (%.1f s, first to last committed completion)
                    ratio job/engine      %8.0f %%  wall clock, %.0f %% steady state%n""",
                    prompts, tokens, engine, engineSeconds, wall, jobWallSeconds, jobFirstMillis,
                    tokens / jobSteadySeconds, jobSteadySeconds, 100 * wall / engine,
                    100 * tokens / jobSteadySeconds / engine);
        }
    }

    private JobBenchmark() {}

    public static Result run(Configuration options, int count, int maxTokens, PrintOut out) throws Exception {
        Configuration conf = new Configuration(options);
        int dp = conf.get(JobOptions.DATA_PARALLELISM);
        List<PromptRecord> prompts = prompts(count, maxTokens);
        ReplicaConfig replica = EngineSettings.replicaConfig(conf);

        out.line("bare engine: " + dp + " replica(s) x TP=" + replica.tensorParallelSize() + " x PP="
                + replica.pipelineStages() + " ...");
        long[] engine = engine(replica, dp, prompts);
        out.line(String.format(Locale.ROOT, "bare engine: %d tokens in %.1f s", engine[0], engine[1] / 1e9));

        try (EmbeddedKafka kafka = new EmbeddedKafka().start()) {
            conf.set(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            conf.set(JobOptions.INPUT_TOPIC, "bench-prompts");
            conf.set(JobOptions.OUTPUT_TOPIC, "bench-completions");
            conf.set(JobOptions.DEAD_LETTER_TOPIC, "bench-dlq");
            kafka.createTopic("bench-prompts", 4);
            kafka.createTopic("bench-completions", 4);
            kafka.createTopic("bench-dlq", 1);
            AvroCodec<PromptRecord> codec = new AvroCodec<>(PromptRecord.class);
            try (KafkaProducer<byte[], byte[]> producer = LocalClients.producer(kafka.bootstrapServers())) {
                for (PromptRecord p : prompts) {
                    producer.send(new ProducerRecord<>("bench-prompts", p.getId().getBytes(), codec.encode(p)));
                }
            }
            out.line("job: " + dp + " replica(s) x TP=" + replica.tensorParallelSize() + " x PP="
                    + replica.pipelineStages() + ", Kafka in and out ...");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment();
            env.configure(JobRunner.flinkSettings(env.getConfiguration()));
            JobRunner.build(env, conf);
            long submitted = System.nanoTime();
            JobClient job = env.executeAsync("streaminfer job benchmark");
            try {
                long[] timing = consume(kafka.bootstrapServers(), count, submitted, job);
                if (timing[0] != engine[0]) {
                    throw new IllegalStateException("the job generated " + timing[0] + " tokens, the engine "
                            + engine[0] + ": the same prompts must give the same tokens");
                }
                return new Result(count, engine[0], engine[1] / 1e9, (timing[2] - submitted) / 1e9,
                        (timing[2] - timing[1]) / 1e9, (timing[1] - submitted) / 1_000_000);
            } finally {
                job.cancel().get();
            }
        }
    }

    /** Prints a progress line (the CLI's stderr). */
    @FunctionalInterface
    public interface PrintOut {
        void line(String text);
    }

    private static List<PromptRecord> prompts(int count, int maxTokens) {
        List<PromptRecord> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(PromptRecord.newBuilder().setId("bench-" + i).setPrompt(STARTERS.get(i % STARTERS.size()))
                    .setMaxTokens(maxTokens).setTemperature(0.8f).build());
        }
        return out;
    }

    /** Runs the prompts on dp bare replicas at once; returns {tokens, nanos}. */
    private static long[] engine(ReplicaConfig replica, int dp, List<PromptRecord> prompts) throws Exception {
        ModelDescription model = InferencePipeline.describe(replica);
        PromptValidator validator = new PromptValidator(model, model.loadTokenizer());
        List<List<GenerationRequest>> shares = new ArrayList<>();
        for (int r = 0; r < dp; r++) {
            shares.add(new ArrayList<>());
        }
        for (int i = 0; i < prompts.size(); i++) {
            shares.get(i % dp).add(validator.validate(prompts.get(i)).request());
        }
        List<BlockingReplica> replicas = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(dp);
        try {
            for (int r = 0; r < dp; r++) {
                replicas.add(new BlockingReplica(replica, Duration.ofHours(1)));
            }
            long start = System.nanoTime();
            List<Future<Long>> tokens = new ArrayList<>();
            for (int r = 0; r < dp; r++) {
                BlockingReplica engine = replicas.get(r);
                List<GenerationRequest> share = shares.get(r);
                tokens.add(threads.submit(() -> engine.run(share).values().stream()
                        .mapToLong(result -> result.tokenIds().length).sum()));
            }
            long total = 0;
            for (Future<Long> f : tokens) {
                total += f.get();
            }
            return new long[] {total, System.nanoTime() - start};
        } finally {
            threads.shutdownNow();
            replicas.forEach(BlockingReplica::close);
        }
    }

    /** Reads committed completions until all arrived; returns {tokens, first nanos, last nanos}. */
    private static long[] consume(String servers, int count, long submitted, JobClient job) throws Exception {
        AvroCodec<CompletionRecord> codec = new AvroCodec<>(CompletionRecord.class);
        Set<String> seen = new HashSet<>();
        long tokens = 0;
        long first = 0;
        long last = 0;
        long deadline = submitted + Duration.ofHours(1).toNanos();
        long nextStatusCheck = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = LocalClients.readCommitted(servers, "bench-reader")) {
            consumer.subscribe(List.of("bench-completions"));
            while (seen.size() < count && System.nanoTime() < deadline) {
                if (System.nanoTime() > nextStatusCheck) {
                    if (job.getJobStatus().get().isGloballyTerminalState()) {
                        throw new IllegalStateException("the job ended after " + seen.size() + " of " + count
                                + " completions: " + JobFailures.of(job));
                    }
                    nextStatusCheck = System.nanoTime() + Duration.ofSeconds(1).toNanos();
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
                    CompletionRecord c = codec.decode(record.value());
                    if (seen.add(c.getId())) {
                        tokens += c.getCompletionTokens();
                        last = System.nanoTime();
                        first = first == 0 ? last : first;
                    }
                }
            }
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new IllegalStateException("reading completions failed: " + e.getMessage(), e);
        }
        if (seen.size() < count) {
            throw new IllegalStateException("only " + seen.size() + " of " + count + " completions arrived");
        }
        return new long[] {tokens, first, last};
    }
}
