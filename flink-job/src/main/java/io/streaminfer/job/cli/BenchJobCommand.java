package io.streaminfer.job.cli;

import io.streaminfer.engine.ModelFiles;
import io.streaminfer.job.JobOptions;
import io.streaminfer.model.SyntheticCheckpoint;
import io.streaminfer.job.local.JobBenchmark;
import java.io.PrintWriter;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code streaminfer bench-job}: the same prompts through the bare engine and through the Kafka job. */
@Command(name = "bench-job", mixinStandardHelpOptions = true,
        description = "Measure Flink's overhead: throughput of the streaming job (embedded Kafka in and out, "
                + "exactly once, MiniCluster) next to the bare engine's on the same prompts.")
public final class BenchJobCommand extends CliCommand {
    @Option(names = "--model", paramLabel = "PATH|synthetic:...", required = true,
            description = "A llama2.c checkpoint file, a Hugging Face model directory, or a synthetic model such as "
                    + "synthetic:stories15M.")
    private String model;
    @Option(names = "--tokenizer", paramLabel = "PATH", required = true, description = "A llama2.c tokenizer.bin, a "
            + "tokenizer.json or a directory holding one.")
    private String tokenizer;
    @Option(names = "--prompts", paramLabel = "N", defaultValue = "128", description = "Prompts. Default: ${DEFAULT-VALUE}.")
    private int prompts;
    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "64", description = "Tokens per prompt. Default: ${DEFAULT-VALUE}.")
    private int maxTokens;
    @Option(names = "--tp", paramLabel = "N", defaultValue = "1", description = "Tensor-parallel degree. Default: ${DEFAULT-VALUE}.")
    private int tp;
    @Option(names = "--pp", paramLabel = "N", defaultValue = "1", description = "Pipeline-parallel degree. Default: ${DEFAULT-VALUE}.")
    private int pp;
    @Option(names = "--pp-layers", paramLabel = "N,N,...", description = "Layers per pipeline stage, first to "
            + "last (e.g. 5,1; only the last may hold none). Default: balanced by work.")
    private String ppLayers;
    @Option(names = "--parallelism", paramLabel = "N", defaultValue = "1", description = "Data-parallel replicas. Default: ${DEFAULT-VALUE}.")
    private int dp;
    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "64", description = "Sequences per replica. Default: ${DEFAULT-VALUE}.")
    private int maxBatch;
    @Option(names = "--kv-cache-memory", paramLabel = "SIZE", description = "KV budget of each replica (all its "
            + "ranks), in bytes with an optional k, m or g suffix. Default: derived from the model and the heap.")
    private String kvCacheMemory;
    @Option(names = "--prefix-cache", paramLabel = "on|off", defaultValue = "on",
            description = "Prefix caching. Default: ${DEFAULT-VALUE}.")
    private String prefixCache;
    @Option(names = "--checkpoint-interval", paramLabel = "MILLIS", defaultValue = "1000",
            description = "Checkpoint (and commit) interval of the job, in ms. Default: ${DEFAULT-VALUE}.")
    private long checkpointMillis;

    @Override
    void checkFlags() {
        if (!SyntheticCheckpoint.isDescription(model)) {
            FileChecks.readableFileOrDirectory("--model", model);
        }
        FileChecks.readableFileOrDirectory("--tokenizer", tokenizer);
        if (prompts < 1 || maxTokens < 1 || tp < 1 || pp < 1 || dp < 1 || maxBatch < 1 || checkpointMillis < 1) {
            throw new IllegalArgumentException("--prompts, --max-tokens, --tp, --pp, --parallelism, --max-batch and "
                    + "--checkpoint-interval must be >= 1");
        }
        io.streaminfer.model.ModelConfig config = SyntheticCheckpoint.isDescription(model)
                ? ModelChecks.checkSynthetic(model, tokenizer, tp, pp)
                : ModelChecks.check(model, tokenizer, tp, pp).config();
        io.streaminfer.model.StageSpec.split(config, pp, JobOptions.pipelineLayers(layersConf()));
        if (kvCacheMemory != null) {
            io.streaminfer.engine.KvCacheSettings.parseSize("--kv-cache-memory", kvCacheMemory);
        }
        if (!prefixCache.equals("on") && !prefixCache.equals("off")) {
            throw new IllegalArgumentException("--prefix-cache must be on or off, got '" + prefixCache + "'");
        }
    }

    @Override
    Integer run() throws Exception {
        Configuration conf = new Configuration();
        conf.set(JobOptions.MODEL_PATH, ModelFiles.resolve(model).toString());
        conf.set(JobOptions.TOKENIZER_PATH, tokenizer);
        conf.set(JobOptions.TENSOR_PARALLELISM, tp);
        conf.set(JobOptions.PIPELINE_PARALLELISM, pp);
        conf.addAll(layersConf());
        conf.set(JobOptions.DATA_PARALLELISM, dp);
        conf.set(JobOptions.MAX_BATCH, maxBatch);
        conf.set(JobOptions.CHECKPOINT_INTERVAL, Duration.ofMillis(checkpointMillis));
        if (kvCacheMemory != null) {
            conf.set(JobOptions.KV_CACHE_MEMORY, kvCacheMemory);
        }
        conf.set(JobOptions.PREFIX_CACHE, prefixCache.equals("on") ? JobOptions.Switch.ON : JobOptions.Switch.OFF);
        PrintWriter err = spec().commandLine().getErr();
        JobBenchmark.Result result = JobBenchmark.run(conf, prompts, maxTokens, line -> {
            err.println("bench-job: " + line);
            err.flush();
        });
        PrintWriter out = spec().commandLine().getOut();
        out.print(result.table());
        out.printf("reproduce: java -jar flink-job/target/streaminfer.jar bench-job --model %s --tokenizer %s --prompts %d "
                + "--max-tokens %d --tp %d --pp %d --parallelism %d --max-batch %d%n", model, tokenizer, prompts, maxTokens,
                tp, pp, dp, maxBatch);
        out.flush();
        return Cli.EXIT_OK;
    }

    /** --pp-layers as the job's option (absent when not given). */
    private Configuration layersConf() {
        Configuration conf = new Configuration();
        if (ppLayers != null) {
            conf.set(JobOptions.PIPELINE_LAYERS, ppLayers);
        }
        return conf;
    }
}
