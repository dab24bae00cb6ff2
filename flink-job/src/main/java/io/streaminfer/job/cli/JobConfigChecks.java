package io.streaminfer.job.cli;

import io.streaminfer.engine.KvCacheSettings;
import io.streaminfer.job.JobOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

/**
 * Cross-field checks of a {@code run} or {@code demo} configuration. Each failure is an
 * {@link IllegalArgumentException} whose message names the flag, so the CLI prints it as one line.
 */
public final class JobConfigChecks {
    private JobConfigChecks() {}

    /** Checks a {@code run} configuration: Kafka mode (--bootstrap-servers) or offline (--input, --output). */
    public static Configuration checkRun(Configuration config) {
        checkEngine(config);
        requireGiven(config, JobOptions.MODEL_PATH, "--model");
        requireGiven(config, JobOptions.TOKENIZER_PATH, "--tokenizer");
        boolean offline = config.getOptional(JobOptions.INPUT_PATH).isPresent();
        boolean kafka = config.getOptional(JobOptions.BOOTSTRAP_SERVERS).isPresent();
        if (offline && kafka) {
            throw new IllegalArgumentException("give either --input (offline files) or --bootstrap-servers (Kafka), not both");
        }
        if (offline) {
            FileChecks.readableFileOrDirectory("--input", config.get(JobOptions.INPUT_PATH));
            String output = config.getOptional(JobOptions.OUTPUT_PATH)
                    .orElseThrow(() -> new IllegalArgumentException("--input needs --output DIR for the results"));
            FileChecks.writableDirectory("--output", output);
        } else if (!kafka) {
            throw new IllegalArgumentException("missing --bootstrap-servers (Kafka mode) or --input/--output (offline mode)");
        } else if (config.getOptional(JobOptions.OUTPUT_PATH).isPresent()) {
            throw new IllegalArgumentException("--output is for offline mode; it needs --input instead of --bootstrap-servers");
        }
        return config;
    }

    /**
     * Checks a {@code demo} configuration. Without --model/--tokenizer it uses stories260K.bin and
     * tok512.bin from {@code sharedModels}, when that folder has them.
     */
    public static Configuration checkDemo(Configuration config, Optional<Path> sharedModels) {
        fillDefaultModel(config, JobOptions.MODEL_PATH, "--model", "stories260K.bin", sharedModels);
        fillDefaultModel(config, JobOptions.TOKENIZER_PATH, "--tokenizer", "tok512.bin", sharedModels);
        checkEngine(config);
        // The demo computes on this machine (a job submitted with 'run' may compute on GPU TaskManagers).
        if (config.get(JobOptions.BACKEND) == JobOptions.Backend.CUDA) {
            EngineRuns.requireAvailable("cuda");
        }
        atLeast(config, JobOptions.DEMO_PROMPTS, "--prompts", 1);
        return config;
    }

    private static void checkEngine(Configuration config) {
        atLeast(config, JobOptions.TENSOR_PARALLELISM, "--tp", 1);
        atLeast(config, JobOptions.PIPELINE_PARALLELISM, "--pp", 1);
        atLeast(config, JobOptions.DATA_PARALLELISM, "--parallelism", 1);
        atLeast(config, JobOptions.MAX_BATCH, "--max-batch", 1);
        atLeast(config, JobOptions.MAX_N, "--max-n", 1);
        atLeast(config, JobOptions.KV_BUDGET_TOKENS, "--kv-budget", 0);
        config.getOptional(JobOptions.KV_CACHE_MEMORY)
                .ifPresent(size -> KvCacheSettings.parseSize("--kv-cache-memory", size));
        Duration interval = config.get(JobOptions.CHECKPOINT_INTERVAL);
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("--checkpoint-interval must be positive, got " + interval.toMillis() + "ms");
        }
        config.getOptional(JobOptions.MODEL_PATH).ifPresent(p -> FileChecks.readableFileOrDirectory("--model", p));
        config.getOptional(JobOptions.TOKENIZER_PATH).ifPresent(p -> FileChecks.readableFileOrDirectory("--tokenizer", p));
        // The header, the TP split and the tokenizer's fit, here: on the cluster each would fail every restart.
        java.util.List<Integer> layers = JobOptions.pipelineLayers(config);
        config.getOptional(JobOptions.MODEL_PATH).ifPresent(model -> io.streaminfer.model.StageSpec.split(
                ModelChecks.check(model, config.getOptional(JobOptions.TOKENIZER_PATH).orElse(null),
                        config.get(JobOptions.TENSOR_PARALLELISM), config.get(JobOptions.PIPELINE_PARALLELISM)).config(),
                config.get(JobOptions.PIPELINE_PARALLELISM), layers));
        for (ConfigOption<String> topic : java.util.List.of(JobOptions.INPUT_TOPIC, JobOptions.OUTPUT_TOPIC,
                JobOptions.DEAD_LETTER_TOPIC)) {
            if (config.get(topic).isBlank()) {
                throw new IllegalArgumentException(topic.key() + " must not be blank");
            }
        }
        String in = config.get(JobOptions.INPUT_TOPIC);
        if (in.equals(config.get(JobOptions.OUTPUT_TOPIC)) || in.equals(config.get(JobOptions.DEAD_LETTER_TOPIC))) {
            throw new IllegalArgumentException("--input-topic must differ from --output-topic and --dead-letter-topic "
                    + "(the job would read its own output)");
        }
    }

    private static void atLeast(Configuration config, ConfigOption<Integer> option, String flag, int min) {
        int value = config.get(option);
        if (value < min) {
            throw new IllegalArgumentException(flag + " must be >= " + min + ", got " + value);
        }
    }

    private static void requireGiven(Configuration config, ConfigOption<String> option, String flag) {
        if (config.getOptional(option).isEmpty()) {
            throw new IllegalArgumentException("missing " + flag);
        }
    }

    private static void fillDefaultModel(Configuration config, ConfigOption<String> option, String flag, String file,
                                         Optional<Path> sharedModels) {
        if (config.getOptional(option).isPresent()) {
            return;
        }
        Optional<Path> found = sharedModels.map(dir -> dir.resolve(file)).filter(Files::isRegularFile);
        config.set(option, found.orElseThrow(() -> new IllegalArgumentException("missing " + flag + " (no default "
                + file + " in " + sharedModels.map(Path::toString).orElse("the shared models folder") + ")")).toString());
    }
}
