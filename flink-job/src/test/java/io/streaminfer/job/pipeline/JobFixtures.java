package io.streaminfer.job.pipeline;

import io.streaminfer.engine.BlockingReplica;
import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.job.JobOptions;
import io.streaminfer.job.TestModels;
import io.streaminfer.job.codec.AvroCodec;
import io.streaminfer.job.convert.PromptValidator;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Models, prompts, and Kafka reading/writing shared by the job's ITCases. */
final class JobFixtures {
    static final List<String> STARTERS = List.of("Once upon a time", "The little dog", "Tom had a big red ball",
            "One day, a girl named Lily", "The sun was shining and", "A cat sat on the");

    private JobFixtures() {}

    /**
     * Job options for stories260K at the given degrees. The job tests compare the job with the engine alone, so
     * without the shared files they run on a synthetic model of its shape; a golden test sets the real files.
     */
    static Configuration options(int dp, int tp) {
        TestModels.Model model = TestModels.stories260KOrSynthetic();
        Configuration conf = new Configuration();
        conf.set(JobOptions.MODEL_PATH, model.checkpoint().toString());
        conf.set(JobOptions.TOKENIZER_PATH, model.tokenizer().toString());
        conf.set(JobOptions.TENSOR_PARALLELISM, tp);
        conf.set(JobOptions.DATA_PARALLELISM, dp);
        conf.set(JobOptions.MAX_BATCH, 8);
        conf.set(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(300));
        return conf;
    }

    /** Mixed prompts: greedy and sampled, different lengths, some sharing a routing key. */
    static List<PromptRecord> prompts(String prefix, int count) {
        List<PromptRecord> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            PromptRecord.Builder b = PromptRecord.newBuilder().setId(prefix + i)
                    .setPrompt(STARTERS.get(i % STARTERS.size())).setMaxTokens(12 + 7 * (i % 4))
                    .setTemperature(i % 3 == 0 ? 0f : 0.9f).setMetadata(Map.of("n", Integer.toString(i)));
            if (i % 2 == 0) {
                b.setKey("user-" + (i % 3));
            }
            if (i % 5 == 1) {
                b.setSeed(1000L + i);
            }
            out.add(b.build());
        }
        return out;
    }

    static void produce(String servers, String topic, List<PromptRecord> prompts, List<byte[]> raw) {
        Properties props = new Properties();
        props.put("bootstrap.servers", servers);
        props.put("key.serializer", ByteArraySerializer.class.getName());
        props.put("value.serializer", ByteArraySerializer.class.getName());
        AvroCodec<PromptRecord> codec = new AvroCodec<>(PromptRecord.class);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            for (PromptRecord p : prompts) {
                producer.send(new ProducerRecord<>(topic, p.getId().getBytes(), codec.encode(p)));
            }
            for (byte[] bytes : raw) {
                producer.send(new ProducerRecord<>(topic, null, bytes));
            }
        }
    }

    /** What a read_committed consumer sees on the two output topics. */
    record Seen(List<CompletionRecord> completions, List<DeadLetterRecord> deadLetters) {
        Map<String, Integer> completionCounts() {
            Map<String, Integer> counts = new HashMap<>();
            completions.forEach(c -> counts.merge(c.getId(), 1, Integer::sum));
            return counts;
        }
    }

    /**
     * Reads both topics with read_committed until {@code completions} and {@code deadLetters} records
     * arrived, then keeps reading {@code grace} longer so that a duplicate would show.
     */
    static Seen consume(String servers, String completionTopic, String deadLetterTopic, int completions,
                        int deadLetters, Duration timeout, Duration grace) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", servers);
        props.put("group.id", "it-reader-" + completionTopic);
        props.put("isolation.level", "read_committed");
        props.put("auto.offset.reset", "earliest");
        props.put("key.deserializer", ByteArrayDeserializer.class.getName());
        props.put("value.deserializer", ByteArrayDeserializer.class.getName());
        AvroCodec<CompletionRecord> completionCodec = new AvroCodec<>(CompletionRecord.class);
        AvroCodec<DeadLetterRecord> deadLetterCodec = new AvroCodec<>(DeadLetterRecord.class);
        List<CompletionRecord> cs = new ArrayList<>();
        List<DeadLetterRecord> ds = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        long graceEnd = Long.MAX_VALUE;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(completionTopic, deadLetterTopic));
            while (System.nanoTime() < Math.min(deadline, graceEnd)) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.topic().equals(completionTopic)) {
                        cs.add(completionCodec.decode(r.value()));
                    } else {
                        ds.add(deadLetterCodec.decode(r.value()));
                    }
                }
                if (graceEnd == Long.MAX_VALUE && cs.size() >= completions && ds.size() >= deadLetters) {
                    graceEnd = System.nanoTime() + grace.toNanos();
                }
            }
        }
        return new Seen(cs, ds);
    }

    /**
     * What the engine alone gives for these prompts, validated as the job validates them: one at a time and
     * unpipelined (PP=1), so a job at any batch and PP degree must match it bitwise.
     */
    static Map<String, GenerationResult> expected(Configuration conf, List<PromptRecord> prompts) throws Exception {
        ReplicaConfig replica = EngineSettings.replicaConfig(conf).withBatch(1, 256).withPipeline(1, true);
        ModelDescription model = InferencePipeline.describe(replica);
        PromptValidator validator = new PromptValidator(model, model.loadTokenizer());
        List<GenerationRequest> requests = prompts.stream().map(p -> validator.validate(p).request()).toList();
        try (BlockingReplica engine = new BlockingReplica(replica, Duration.ofMinutes(2))) {
            return engine.run(requests);
        }
    }
}
