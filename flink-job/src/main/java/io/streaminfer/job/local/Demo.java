package io.streaminfer.job.local;

import io.streaminfer.job.JobOptions;
import io.streaminfer.job.codec.AvroCodec;
import io.streaminfer.job.kafka.EmbeddedKafka;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The whole pipeline on one machine with nothing installed: an in-process KRaft broker, a MiniCluster with
 * the web UI, the streaming job (DP=2 x TP=2 on the CPU unless told otherwise), a handful of prompts (two
 * of them bad, to show dead letters), and each completion printed as it arrives.
 */
public final class Demo {
    private static final List<String> STARTERS = List.of("Once upon a time", "The little dog", "One day, a girl named Lily",
            "Tom had a big red ball", "The sun was shining and", "In a small town there was", "A cat sat on the",
            "Ben and Mia went to the park");
    private static final Duration DEADLINE = Duration.ofMinutes(10);

    private Demo() {}

    /** Runs the demo; returns 0 when every prompt was answered (a completion or a dead letter). */
    public static int run(Configuration options, PrintWriter out) throws Exception {
        Configuration conf = new Configuration(options);
        conf.set(JobOptions.TENSOR_PARALLELISM, options.getOptional(JobOptions.TENSOR_PARALLELISM).orElse(2));
        conf.set(JobOptions.DATA_PARALLELISM, options.getOptional(JobOptions.DATA_PARALLELISM).orElse(2));
        conf.set(JobOptions.CHECKPOINT_INTERVAL, options.getOptional(JobOptions.CHECKPOINT_INTERVAL)
                .orElse(Duration.ofSeconds(1)));
        int count = conf.get(JobOptions.DEMO_PROMPTS);
        long started = System.nanoTime();
        try (EmbeddedKafka kafka = new EmbeddedKafka().start()) {
            conf.set(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            kafka.createTopic(conf.get(JobOptions.INPUT_TOPIC), 4);
            kafka.createTopic(conf.get(JobOptions.OUTPUT_TOPIC), 4);
            kafka.createTopic(conf.get(JobOptions.DEAD_LETTER_TOPIC), 1);
            out.printf(Locale.ROOT, "demo: Kafka broker (KRaft, in-process) at %s; model %s; DP=%d x TP=%d on %s%n",
                    kafka.bootstrapServers(), conf.get(JobOptions.MODEL_PATH), conf.get(JobOptions.DATA_PARALLELISM),
                    conf.get(JobOptions.TENSOR_PARALLELISM), conf.get(JobOptions.BACKEND).name().toLowerCase(Locale.ROOT));
            int bad = produce(kafka.bootstrapServers(), conf.get(JobOptions.INPUT_TOPIC), count);

            Configuration cluster = new Configuration();
            cluster.set(RestOptions.PORT, 8081);
            cluster.set(RestOptions.BIND_PORT, "8081-8099");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(cluster);
            env.configure(JobRunner.flinkSettings(cluster));
            JobRunner.build(env, conf);
            JobClient job = env.executeAsync("streaminfer demo");
            out.printf("demo: job %s running; Flink web UI on http://localhost:8081 (the next free port if taken)%n",
                    job.getJobID());
            out.printf("demo: produced %d prompts (%d of them malformed or invalid, to show dead letters)%n", count + bad, bad);
            out.flush();
            try {
                Answered answered = consume(conf, kafka.bootstrapServers(), count, bad, out, job, DEADLINE);
                double seconds = (System.nanoTime() - started) / 1e9;
                if (answered == Answered.JOB_ENDED) {
                    out.printf(Locale.ROOT, "demo: the job ended after %.1f s, before every prompt was answered: %s%n",
                            seconds, JobFailures.of(job));
                } else {
                    out.printf(Locale.ROOT, "demo: %s in %.1f s%n", answered == Answered.ALL ? "done" : "timed out",
                            seconds);
                }
                out.flush();
                return answered == Answered.ALL ? 0 : 1;
            } finally {
                if (!job.getJobStatus().get().isGloballyTerminalState()) {
                    job.cancel().get();
                }
            }
        }
    }

    /** Produces {@code count} good prompts and two bad records; returns how many bad. */
    private static int produce(String servers, String topic, int count) {
        AvroCodec<PromptRecord> codec = new AvroCodec<>(PromptRecord.class);
        try (KafkaProducer<byte[], byte[]> producer = LocalClients.producer(servers)) {
            for (int i = 0; i < count; i++) {
                String id = "demo-" + i;
                PromptRecord prompt = PromptRecord.newBuilder().setId(id).setKey("user-" + (i % 5))
                        .setPrompt(STARTERS.get(i % STARTERS.size())).setMaxTokens(48 + 16 * (i % 3))
                        .setTemperature(i % 2 == 0 ? 0f : 0.8f).setSeed((long) i)
                        .setMetadata(Map.of("source", "demo")).build();
                producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), codec.encode(prompt)));
            }
            producer.send(new ProducerRecord<>(topic, null, "not avro at all".getBytes(StandardCharsets.UTF_8)));
            PromptRecord invalid = PromptRecord.newBuilder().setId("demo-invalid").setPrompt("Hot")
                    .setTemperature(-1f).build();
            producer.send(new ProducerRecord<>(topic, null, codec.encode(invalid)));
        }
        return 2;
    }

    /** How the wait for the answers ended. */
    enum Answered { ALL, TIMED_OUT, JOB_ENDED }

    /**
     * Prints completions and dead letters as they arrive (read_committed) until every prompt has its answer,
     * the deadline passes, or the job ends (then there is nothing more to wait for).
     */
    static Answered consume(Configuration conf, String servers, int completions, int deadLetters,
                            PrintWriter out, JobClient job, Duration wait) throws Exception {
        String completionTopic = conf.get(JobOptions.OUTPUT_TOPIC);
        AvroCodec<CompletionRecord> completionCodec = new AvroCodec<>(CompletionRecord.class);
        AvroCodec<DeadLetterRecord> deadLetterCodec = new AvroCodec<>(DeadLetterRecord.class);
        Set<String> seen = new HashSet<>();
        int dead = 0;
        long deadline = System.nanoTime() + wait.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = LocalClients.readCommitted(servers, "streaminfer-demo-reader")) {
            consumer.subscribe(List.of(completionTopic, conf.get(JobOptions.DEAD_LETTER_TOPIC)));
            while ((seen.size() < completions || dead < deadLetters) && System.nanoTime() < deadline) {
                if (job.getJobStatus().get().isGloballyTerminalState()) {
                    return Answered.JOB_ENDED;
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    try {
                        if (record.topic().equals(completionTopic)) {
                            CompletionRecord c = completionCodec.decode(record.value());
                            seen.add(c.getId());
                            out.printf(Locale.ROOT, "[replica %d, tp %d] %-8s %-6s %3d tokens, first token %4d ms, total %5d ms: %s%n",
                                    c.getReplica(), c.getTpSize(), c.getId(), c.getFinishReason(), c.getCompletionTokens(),
                                    c.getFirstTokenMs(), c.getTotalMs(), oneLine(c.getText(), c.getError()));
                        } else {
                            DeadLetterRecord d = deadLetterCodec.decode(record.value());
                            dead++;
                            out.printf("[dead letter] %s: %s%n", d.getId() == null ? "(no id)" : d.getId(), d.getReason());
                        }
                    } catch (Exception e) {
                        out.println("demo: undecodable output record: " + e.getMessage());
                    }
                    out.flush();
                }
            }
        }
        return seen.size() >= completions && dead >= deadLetters ? Answered.ALL : Answered.TIMED_OUT;
    }

    private static String oneLine(String text, String error) {
        String s = error != null ? "ERROR " + error : text;
        s = s.replace('\n', ' ');
        return s.length() > 110 ? s.substring(0, 107) + "..." : s;
    }
}
