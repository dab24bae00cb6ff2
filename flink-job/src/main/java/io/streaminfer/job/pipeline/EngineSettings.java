package io.streaminfer.job.pipeline;

import io.streaminfer.engine.KvCacheSettings;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.job.JobOptions;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.StageSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;

/** Turns the job's options into the replica configuration every subtask starts from. */
public final class EngineSettings {
    /** Rows one step computes: every running sequence's decode row plus prefill chunks. */
    private static final int STEP_ROWS_OVER_BATCH = 192;

    private EngineSettings() {}

    /**
     * Reads the checkpoint's configuration and tensor kinds (no weights) to size the KV budget and to refuse
     * a TP or PP degree the model cannot be split by, before the job is submitted.
     */
    public static ReplicaConfig replicaConfig(Configuration conf) {
        String model = conf.get(JobOptions.MODEL_PATH);
        ModelConfig header;
        int tp = conf.get(JobOptions.TENSOR_PARALLELISM);
        int pp = conf.get(JobOptions.PIPELINE_PARALLELISM);
        java.util.List<Integer> layers = JobOptions.pipelineLayers(conf);
        try (Checkpoint checkpoint = Checkpoints.open(Path.of(model))) {
            header = checkpoint.config();
            ShardSpec.check(checkpoint, tp);
            StageSpec.split(header, pp, layers); // refuses a degree or layer counts the model cannot be split by
        } catch (IOException e) {
            throw new IllegalArgumentException("--model " + model + ": " + e.getMessage(), e);
        }
        int maxBatch = conf.get(JobOptions.MAX_BATCH);
        int kvBudget = conf.get(JobOptions.KV_BUDGET_TOKENS);
        // --kv-budget TOKENS (the older form) is a pool of that many positions, and caps the context to it
        int positions = kvBudget == 0 ? header.contextLength() : Math.min(header.contextLength(), kvBudget);
        if (positions < 2) {
            throw new IllegalArgumentException("--kv-budget " + kvBudget + " leaves " + positions
                    + " positions per sequence; raise it");
        }
        long kvBytes = conf.getOptional(JobOptions.KV_CACHE_MEMORY)
                .map(size -> KvCacheSettings.parseSize("--kv-cache-memory", size))
                .orElse(kvBudget == 0 ? 0L : (long) kvBudget * KvCacheSettings.bytesPerPosition(header));
        KvCacheSettings kv = KvCacheSettings.defaults().withMemory(kvBytes)
                .withPrefixCaching(conf.get(JobOptions.PREFIX_CACHE) == JobOptions.Switch.ON);
        String name = conf.getOptional(JobOptions.MODEL_NAME).orElse(ReplicaConfig.modelNameOf(model));
        String backend = conf.get(JobOptions.BACKEND) == JobOptions.Backend.CUDA ? "cuda" : "vector";
        return new ReplicaConfig(model, conf.get(JobOptions.TOKENIZER_PATH), name, tp, backend, 1, maxBatch, positions,
                maxBatch + STEP_ROWS_OVER_BATCH, Math.max(2 * maxBatch, 16), Duration.ofSeconds(60),
                new ReplicaConfig.Pipeline(pp, true, layers), kv);
    }
}
