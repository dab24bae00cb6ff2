package io.streaminfer.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The smoke test's Kafka client, in Avro single-object encoding (the job's wire format: C3 01, the schema's
 * fingerprint, then binary; no registry), using the project's own .avsc files as writer and reader schemas
 * ({@link AvroWire}):
 *
 * <pre>
 * SmokeClient create-topics --bootstrap H:P --topic prompts:4 --topic completions:4 ...
 * SmokeClient produce --bootstrap H:P --topic prompts --schemas DIR --prefix b1 --count 100 [--max-tokens 48]
 *                     [--rate PER_S --stop-file PATH] [--as-release N]
 * SmokeClient consume --bootstrap H:P --topic completions --schemas DIR --expect b1:100 [--expect b2:50]
 *                     [--earlier b0:50] [--at-least K] [--timeout-s 120] [--since-ms EPOCH_MS] [--progress FILE]
 * </pre>
 *
 * {@code consume} reads the whole topic with {@code isolation.level=read_committed} and counts every
 * completion id. Without {@code --at-least} it waits until every expected id is there and exits 0 only
 * when none is missing, none is duplicated, none is unexpected and none is an ERROR completion. With
 * {@code --at-least K} it only waits until K expected ids are there (to time a fault in the middle of a
 * batch). {@code --earlier} ids are checked the same way but left out of the rates: the summary's
 * tokens, {@code completions_per_s} and {@code tokens_per_s} count the {@code --expect} ids alone, from
 * {@code --since-ms} to the first sighting of the last of them. Its last line on stdout is a
 * {@code key=value} summary that the scripts parse.
 *
 * <p>{@code produce --as-release N} writes what release N's producers wrote: its schema, headerless for
 * release 1 (0.1.0). {@code consume} reads every release's values. The released schemas come from
 * {@code --releases DIR}, by default the job's {@code releases} resources beside {@code --schemas}.
 *
 * <p>{@code produce --rate} sends a stream instead of a burst: PER_S prompts a second, until {@code --count}
 * or until the stop file exists; its summary says how many went out ({@code produced=N}), ids from 0 up.
 *
 * <p>With {@code --progress FILE} it appends {@code EPOCH_MS PRESENT} to FILE whenever the count of expected
 * ids present grows: run in the background through a fault, that file says when committed output stopped and
 * when it flowed again (the scripts' recovery times), without starting a client per question.
 */
public final class SmokeClient {

    /** Short story openings for stories260K; the id picks one, so reruns send the same prompts. */
    private static final String[] OPENINGS = {
        "Once upon a time", "One day, a little girl", "Tom and his dog", "The sun was shining and",
        "Lily wanted to", "There was a big tree", "The cat saw a", "Ben had a red ball",
    };

    private SmokeClient() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            throw usage("missing command: create-topics, produce or consume");
        }
        Args a = Args.parse(args, 1);
        int rc = switch (args[0]) {
            case "create-topics" -> createTopics(a);
            case "produce" -> produce(a);
            case "consume" -> consume(a);
            default -> throw usage("unknown command " + args[0]);
        };
        System.exit(rc);
    }

    private static int createTopics(Args a) throws Exception {
        List<NewTopic> topics = new ArrayList<>();
        for (String spec : a.all("--topic")) {
            String[] parts = spec.split(":");
            if (parts.length != 2) {
                throw usage("--topic must be NAME:PARTITIONS, got " + spec);
            }
            topics.add(new NewTopic(parts[0], Integer.parseInt(parts[1]), (short) 1));
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", a.one("--bootstrap")))) {
            for (NewTopic t : topics) {
                try {
                    admin.createTopics(List.of(t)).all().get(60, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            System.out.println("topics=" + topics.stream().map(t -> t.name() + ":" + t.numPartitions()).toList());
        }
        return 0;
    }

    private static int produce(Args a) throws Exception {
        Schema schema = loadSchema(a, "PromptRecord");
        String prefix = a.one("--prefix");
        int count = Integer.parseInt(a.one("--count"));
        int maxTokens = Integer.parseInt(a.opt("--max-tokens", "48"));
        double rate = Double.parseDouble(a.opt("--rate", "0"));
        Path stopFile = a.values().containsKey("--stop-file") ? Path.of(a.one("--stop-file")) : null;
        long started = System.nanoTime();
        int produced = 0;
        int asRelease = Integer.parseInt(a.opt("--as-release", "0"));
        if (asRelease > 0) {
            schema = new AvroWire(schema, AvroWire.releases(releasesDir(a), "PromptRecord")).release(asRelease);
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, a.one("--bootstrap"));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < count; i++) {
                if (rate > 0) { // a stream: prompt i goes out at i / rate seconds, until the stop file appears
                    long due = started + (long) (i / rate * 1e9);
                    while (System.nanoTime() < due) {
                        Thread.sleep(Math.max(1, Math.min(50, (due - System.nanoTime()) / 1_000_000)));
                    }
                    if (stopFile != null && Files.exists(stopFile)) {
                        break;
                    }
                }
                String id = idOf(prefix, i);
                GenericRecord r = new GenericData.Record(schema);
                for (Schema.Field f : schema.getFields()) {
                    if (f.hasDefaultValue()) {
                        r.put(f.name(), GenericData.get().deepCopy(f.schema(), GenericData.get().getDefaultValue(f)));
                    }
                }
                r.put("id", id);
                r.put("prompt", OPENINGS[Math.floorMod(id.hashCode(), OPENINGS.length)]);
                r.put("max_tokens", maxTokens);
                r.put("created_at", System.currentTimeMillis());
                producer.send(new ProducerRecord<>(a.one("--topic"), id.getBytes(StandardCharsets.UTF_8),
                        AvroWire.encode(r, schema, asRelease == 1)));
                produced++;
            }
            producer.flush();
        }
        System.out.println("produced=" + produced + " prefix=" + prefix);
        return 0;
    }

    private static int consume(Args a) throws Exception {
        Schema schema = loadSchema(a, "CompletionRecord");
        TreeSet<String> timedIds = ids(a.all("--expect"));
        TreeSet<String> expectedIds = new TreeSet<>(timedIds);
        expectedIds.addAll(ids(a.all("--earlier")));
        int atLeast = Integer.parseInt(a.opt("--at-least", "-1"));
        long deadline = System.currentTimeMillis() + 1000L * Integer.parseInt(a.opt("--timeout-s", "120"));
        long since = Long.parseLong(a.opt("--since-ms", String.valueOf(System.currentTimeMillis())));

        Map<String, Integer> seen = new HashMap<>();
        long errors = 0;
        long tokens = 0;
        String firstError = null;
        long lastNewAt = System.currentTimeMillis();
        Progress progress = new Progress(a.opt("--progress", null));
        AvroWire reader = new AvroWire(schema, AvroWire.releases(releasesDir(a), "CompletionRecord"));
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, a.one("--bootstrap"));
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(a.one("--topic"), Duration.ofSeconds(30)).stream()
                    .map(info -> new TopicPartition(info.topic(), info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // read_committed: the last stable offsets. Nothing is judged before they are read, so that
            // --at-least 0 counts what is committed now rather than what the first poll happened to bring.
            Map<TopicPartition, Long> committedEnd = consumer.endOffsets(partitions);
            boolean caughtUp = false;
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
                    GenericRecord c = reader.decode(rec.value());
                    String id = c.get("id").toString();
                    if (seen.merge(id, 1, Integer::sum) == 1 && timedIds.contains(id)) {
                        lastNewAt = System.currentTimeMillis();
                        tokens += ((Number) c.get("completion_tokens")).longValue();
                    }
                    if (!"OK".equals(String.valueOf(c.get("status")))) {
                        errors++;
                        if (firstError == null) {
                            firstError = id + ": " + c.get("error");
                        }
                    }
                }
                if (!caughtUp) {
                    caughtUp = partitions.stream().allMatch(tp -> consumer.position(tp) >= committedEnd.get(tp));
                    if (!caughtUp) {
                        continue;
                    }
                }
                long have = expectedIds.stream().filter(seen::containsKey).count();
                progress.record(have);
                if (atLeast >= 0 ? have >= atLeast : have == expectedIds.size()) {
                    break;
                }
            }
        }
        long received = seen.values().stream().mapToLong(Integer::longValue).sum();
        long present = expectedIds.stream().filter(seen::containsKey).count();
        long duplicates = seen.values().stream().filter(n -> n > 1).count();
        long unexpected = seen.keySet().stream().filter(id -> !expectedIds.contains(id)).count();
        long missing = expectedIds.size() - present;
        long timed = timedIds.stream().filter(seen::containsKey).count();
        double seconds = Math.max(1, lastNewAt - since) / 1000.0;
        if (firstError != null) {
            System.err.println("first ERROR completion: " + firstError);
        }
        if (duplicates > 0) {
            System.err.println("duplicated ids: " + seen.entrySet().stream().filter(e -> e.getValue() > 1).limit(10).toList());
        }
        if (missing > 0 && atLeast < 0) {
            System.err.println("missing ids (first 10): " + expectedIds.stream().filter(id -> !seen.containsKey(id)).limit(10).toList());
        }
        System.out.printf("expected=%d present=%d received=%d duplicates=%d missing=%d unexpected=%d errors=%d"
                        + " tokens=%d last_new_ms=%d completions_per_s=%.1f tokens_per_s=%.1f%n",
                expectedIds.size(), present, received, duplicates, missing, unexpected, errors,
                tokens, lastNewAt, timed / seconds, tokens / seconds);
        if (atLeast >= 0) {
            return present >= atLeast ? 0 : 1;
        }
        return duplicates == 0 && missing == 0 && unexpected == 0 && errors == 0 ? 0 : 1;
    }

    /** The {@code --progress} file: one {@code EPOCH_MS PRESENT} line each time PRESENT grows (none without a file). */
    private static final class Progress {
        private final Path file;
        private long last = -1;

        Progress(String path) {
            this.file = path == null ? null : Path.of(path);
        }

        void record(long present) throws IOException {
            if (file == null || present == last) {
                return;
            }
            last = present;
            Files.writeString(file, System.currentTimeMillis() + " " + present + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    /** The ids of PREFIX:COUNT specs: PREFIX-000000 up to COUNT - 1. */
    private static TreeSet<String> ids(List<String> specs) {
        TreeSet<String> ids = new TreeSet<>();
        for (String spec : specs) {
            String[] parts = spec.split(":");
            if (parts.length != 2) {
                throw usage("--expect and --earlier must be PREFIX:COUNT, got " + spec);
            }
            for (int i = 0, n = Integer.parseInt(parts[1]); i < n; i++) {
                ids.add(idOf(parts[0], i));
            }
        }
        return ids;
    }

    static String idOf(String prefix, int i) {
        return String.format("%s-%06d", prefix, i);
    }

    /** --releases, or the job's released schemas beside --schemas (schemas/src/main/avro); null when neither. */
    private static Path releasesDir(Args a) {
        Path dir = a.values().containsKey("--releases") ? Path.of(a.one("--releases"))
                : Path.of(a.one("--schemas")).resolve("../resources/io/streaminfer/schemas/releases").normalize();
        return Files.isDirectory(dir) ? dir : null;
    }

    private static Schema loadSchema(Args a, String name) throws IOException {
        Path file = Path.of(a.one("--schemas"), name + ".avsc");
        if (!Files.isRegularFile(file)) {
            throw usage("no Avro schema at " + file + " (--schemas must be schemas/src/main/avro)");
        }
        return new Schema.Parser().parse(file.toFile());
    }

    private static IllegalArgumentException usage(String message) {
        return new IllegalArgumentException(message
                + "\nusage: SmokeClient create-topics|produce|consume --bootstrap HOST:PORT ... (see the class comment)");
    }

    /** --flag value pairs; a flag may repeat. */
    private record Args(Map<String, List<String>> values) {
        static Args parse(String[] args, int from) {
            Map<String, List<String>> m = new HashMap<>();
            for (int i = from; i < args.length; i += 2) {
                if (!args[i].startsWith("--") || i + 1 >= args.length) {
                    throw usage("expected --flag VALUE at '" + args[i] + "'");
                }
                m.computeIfAbsent(args[i], k -> new ArrayList<>()).add(args[i + 1]);
            }
            return new Args(m);
        }

        String one(String flag) {
            List<String> v = values.get(flag);
            if (v == null) {
                throw usage("missing " + flag);
            }
            return v.get(v.size() - 1);
        }

        String opt(String flag, String fallback) {
            return values.containsKey(flag) ? one(flag) : fallback;
        }

        List<String> all(String flag) {
            return values.getOrDefault(flag, List.of());
        }
    }
}
