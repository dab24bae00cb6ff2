package io.streaminfer.job;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.description.BlockElement;
import org.apache.flink.configuration.description.TextElement;

/**
 * Every setting of the {@code run} and {@code demo} commands: a typed Flink {@link ConfigOption} with
 * its default and description, and the CLI flag that sets it ({@link Flag}). The CLI turns the flags
 * into a {@link org.apache.flink.configuration.Configuration}; job code reads it with
 * {@code config.get(JobOptions.TP)}.
 */
public final class JobOptions {
    private JobOptions() {}

    /** Compute backend of each rank. */
    public enum Backend { CPU, CUDA }

    /** A feature that is on or off. */
    public enum Switch { ON, OFF }

    // ---- Kafka ----
    public static final ConfigOption<String> BOOTSTRAP_SERVERS = stringOption("streaminfer.kafka.bootstrap-servers",
            "Kafka bootstrap servers (host:port,...). Required by run unless --input is given.");
    public static final ConfigOption<String> INPUT_TOPIC = stringOption("streaminfer.kafka.input-topic", "prompts",
            "Topic of Avro PromptRecords.");
    public static final ConfigOption<String> OUTPUT_TOPIC = stringOption("streaminfer.kafka.output-topic",
            "completions", "Topic for Avro CompletionRecords (written in transactions, keyed by id).");
    public static final ConfigOption<String> DEAD_LETTER_TOPIC = stringOption("streaminfer.kafka.dead-letter-topic",
            "prompts-dlq", "Topic for DeadLetterRecords: inputs that could not become requests, with the reason.");
    public static final ConfigOption<String> GROUP_ID = stringOption("streaminfer.kafka.group-id", "streaminfer",
            "Consumer group id of the prompt source.");
    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX = stringOption("streaminfer.kafka.transactional-id-prefix",
            "streaminfer", "Prefix of the sink's transactional ids; unique per job writing to a cluster.");
    public static final ConfigOption<Map<String, String>> KAFKA_PROPERTIES = ConfigOptions.key("streaminfer.kafka.properties")
            .mapType().defaultValue(Map.of())
            .withDescription("Extra Kafka client properties for source and sinks (e.g. SASL/SSL settings), "
                    + "given as key=value; repeatable.");

    // ---- Model and engine ----
    public static final ConfigOption<String> MODEL_PATH = stringOption("streaminfer.model.path",
            "Model: a llama2.c checkpoint file or a Hugging Face model directory.");
    public static final ConfigOption<String> TOKENIZER_PATH = stringOption("streaminfer.tokenizer.path",
            "Tokenizer: a llama2.c tokenizer.bin, a tokenizer.json, a directory holding one, or a GGUF file; "
                    + "default: the one a Hugging Face directory or a GGUF model carries.");
    public static final ConfigOption<String> MODEL_NAME = stringOption("streaminfer.model.name",
            "Model name that records carry and prompts may ask for; default: the checkpoint's "
                    + "file name without extension.");
    public static final ConfigOption<Backend> BACKEND = ConfigOptions.key("streaminfer.backend")
            .enumType(Backend.class).defaultValue(Backend.CPU).withDescription("Compute backend: cpu or cuda.");
    public static final ConfigOption<Integer> TENSOR_PARALLELISM = intOption("streaminfer.tp", 1,
            "Tensor-parallel degree: rank threads per replica.");
    public static final ConfigOption<Integer> PIPELINE_PARALLELISM = intOption("streaminfer.pp", 1,
            "Pipeline-parallel degree: stages of contiguous layers per replica, each a TP group of its own, with "
                    + "micro-batches in flight; a replica runs TP x PP ranks (GPUs with --backend cuda).");
    public static final ConfigOption<String> PIPELINE_LAYERS = stringOption("streaminfer.pp-layers",
            "Layers per pipeline stage, first to last (e.g. 5,1; only the last stage may hold none, keeping the "
                    + "final norm and classifier alone); default: balanced by work.");
    public static final ConfigOption<Integer> DATA_PARALLELISM = intOption("streaminfer.parallelism", 1,
            "Data-parallel degree: replicas, i.e. the parallelism of the inference operator.");
    public static final ConfigOption<Integer> MAX_BATCH = intOption("streaminfer.max-batch", 64,
            "Most sequences one replica decodes together.");
    public static final ConfigOption<Integer> KV_BUDGET_TOKENS = intOption("streaminfer.kv-budget-tokens", 0,
            "KV-cache budget of one replica in token positions (older form of --kv-cache-memory; it also caps "
                    + "the context); 0 means none.");
    public static final ConfigOption<String> KV_CACHE_MEMORY = stringOption("streaminfer.kv-cache-memory",
            "KV-cache budget of one replica (all its TP ranks), in bytes with an optional k, m or g suffix; "
                    + "default: max-batch sequences of the whole context, at most a quarter of the heap.");
    public static final ConfigOption<Switch> PREFIX_CACHE = ConfigOptions.key("streaminfer.prefix-cache")
            .enumType(Switch.class).defaultValue(Switch.ON)
            .withDescription("Prefix caching: prompts reuse the KV blocks of earlier prompts that start with the "
                    + "same tokens (on or off; the tokens are the same either way).");
    public static final ConfigOption<Integer> MAX_N = intOption("streaminfer.max-n", 16,
            "Most samples (n) one prompt may ask for; a record asking for more is a dead letter.");
    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL = ConfigOptions.key("streaminfer.checkpoint-interval")
            .durationType().defaultValue(Duration.ofSeconds(10))
            .withDescription("Flink checkpoint interval (e.g. 10s, 500ms); completions commit to Kafka on checkpoints.");

    // ---- Offline mode ----
    public static final ConfigOption<String> INPUT_PATH = stringOption("streaminfer.offline.input",
            "Offline mode: a JSON Lines file, or a directory of them (every file but dot-files, no subdirectories),"
                    + " of PromptRecords or of OpenAI batch request lines (when the first line has a custom_id), or"
                    + " Avro container files (instead of Kafka).");
    public static final ConfigOption<String> OUTPUT_PATH = stringOption("streaminfer.offline.output",
            "Offline mode: a new or empty directory for the completion and dead-letter files.");

    // ---- demo ----
    public static final ConfigOption<Integer> DEMO_PROMPTS = intOption("streaminfer.demo.prompts", 32,
            "How many prompts the demo produces into its embedded broker.");

    /**
     * A CLI flag bound to an option.
     *
     * @param name the flag, e.g. {@code --tp}
     * @param paramLabel what the value is, for the help, e.g. {@code N}
     * @param option the option it sets
     */
    public record Flag(String name, String paramLabel, ConfigOption<?> option) {
        /** Description and default, as the help shows them. */
        public String help() {
            String text = describe(option);
            return option.hasDefaultValue() ? text + " Default: " + shownDefault(option.defaultValue()) + "." : text;
        }

        /** Whether the flag may be given several times (map options: key=value each). */
        public boolean repeatable() {
            return option == KAFKA_PROPERTIES;
        }
    }

    private static final List<Flag> KAFKA_FLAGS = List.of(
            new Flag("--bootstrap-servers", "HOSTS", BOOTSTRAP_SERVERS),
            new Flag("--group-id", "ID", GROUP_ID),
            new Flag("--transactional-id-prefix", "PREFIX", TRANSACTIONAL_ID_PREFIX),
            new Flag("--kafka-property", "KEY=VALUE", KAFKA_PROPERTIES));
    private static final List<Flag> TOPIC_FLAGS = List.of(
            new Flag("--input-topic", "TOPIC", INPUT_TOPIC),
            new Flag("--output-topic", "TOPIC", OUTPUT_TOPIC),
            new Flag("--dead-letter-topic", "TOPIC", DEAD_LETTER_TOPIC));
    private static final List<Flag> ENGINE_FLAGS = List.of(
            new Flag("--model", "PATH", MODEL_PATH),
            new Flag("--tokenizer", "PATH", TOKENIZER_PATH),
            new Flag("--model-name", "NAME", MODEL_NAME),
            new Flag("--backend", "cpu|cuda", BACKEND),
            new Flag("--tp", "N", TENSOR_PARALLELISM),
            new Flag("--pp", "N", PIPELINE_PARALLELISM),
            new Flag("--pp-layers", "N,N,...", PIPELINE_LAYERS),
            new Flag("--parallelism", "N", DATA_PARALLELISM),
            new Flag("--max-batch", "N", MAX_BATCH),
            new Flag("--kv-budget", "TOKENS", KV_BUDGET_TOKENS),
            new Flag("--kv-cache-memory", "SIZE", KV_CACHE_MEMORY),
            new Flag("--prefix-cache", "on|off", PREFIX_CACHE),
            new Flag("--max-n", "N", MAX_N),
            new Flag("--checkpoint-interval", "DURATION", CHECKPOINT_INTERVAL));

    /** A string option without a default. */
    private static ConfigOption<String> stringOption(String key, String description) {
        return ConfigOptions.key(key).stringType().noDefaultValue().withDescription(description);
    }

    private static ConfigOption<String> stringOption(String key, String defaultValue, String description) {
        return ConfigOptions.key(key).stringType().defaultValue(defaultValue).withDescription(description);
    }

    private static ConfigOption<Integer> intOption(String key, int defaultValue, String description) {
        return ConfigOptions.key(key).intType().defaultValue(defaultValue).withDescription(description);
    }

    /** Flags of {@code run}: Kafka mode, or offline mode with --input/--output. */
    public static List<Flag> runFlags() {
        return concat(KAFKA_FLAGS, TOPIC_FLAGS, ENGINE_FLAGS, List.of(
                new Flag("--input", "FILE_OR_DIR", INPUT_PATH),
                new Flag("--output", "DIR", OUTPUT_PATH)));
    }

    /** Flags of {@code demo}: an embedded broker replaces the Kafka settings. */
    public static List<Flag> demoFlags() {
        return concat(TOPIC_FLAGS, ENGINE_FLAGS, List.of(new Flag("--prompts", "N", DEMO_PROMPTS)));
    }

    @SafeVarargs
    private static List<Flag> concat(List<Flag>... parts) {
        List<Flag> all = new java.util.ArrayList<>();
        for (List<Flag> p : parts) {
            all.addAll(p);
        }
        return List.copyOf(all);
    }

    static String describe(ConfigOption<?> option) {
        StringBuilder text = new StringBuilder();
        for (BlockElement block : option.description().getBlocks()) {
            if (block instanceof TextElement t) {
                text.append(t.getFormat());
            }
        }
        return text.toString();
    }

    private static String shownDefault(Object value) {
        if (value instanceof Duration d) {
            return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
        }
        if (value instanceof Enum<?> e) {
            return e.name().toLowerCase(java.util.Locale.ROOT);
        }
        if (value instanceof Map<?, ?> m && m.isEmpty()) {
            return "none";
        }
        return String.valueOf(value);
    }

    /** {@code --pp-layers 5,1} as layer counts; empty when not given. */
    public static List<Integer> pipelineLayers(org.apache.flink.configuration.Configuration conf) {
        String text = conf.getOptional(PIPELINE_LAYERS).orElse("").trim();
        if (text.isEmpty()) {
            return List.of();
        }
        List<Integer> out = new java.util.ArrayList<>();
        for (String part : text.split(",")) {
            try {
                out.add(Integer.parseInt(part.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--pp-layers takes layer counts like 5,1, got '" + text + "'");
            }
        }
        return List.copyOf(out);
    }
}
