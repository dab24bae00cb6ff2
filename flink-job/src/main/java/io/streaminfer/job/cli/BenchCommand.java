package io.streaminfer.job.cli;

import io.streaminfer.compute.StorageKind;
import io.streaminfer.engine.EngineBenchmark;
import io.streaminfer.engine.KvCacheSettings;
import io.streaminfer.engine.ServingBenchmark;
import io.streaminfer.model.SyntheticCheckpoint;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code streaminfer bench}: engine throughput at several batch sizes, against the box's limits. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure decode throughput of the engine alone at each batch size, with the box's limits.",
                "With --shared-prefix-tokens, --kv-cache-memory or --prompts: the whole replica (scheduler, paged "
                        + "KV, prefix cache) on prompts that share a prefix, every row with the prefix cache on and off."})
public final class BenchCommand extends CliCommand {
    @Option(names = "--model", paramLabel = "PATH|synthetic:...", description = "A llama2.c checkpoint file, a "
            + "Hugging Face model directory, or a synthetic model, e.g. synthetic:stories15M or "
            + "synthetic:dim=288,hidden=768,layers=6,heads=6,vocab=32000,seq_len=256.")
    private String model;
    @Option(names = {"--batch-sizes", "--batch"}, paramLabel = "N", split = ",", defaultValue = "1,8,32,64",
            description = "Batch sizes to measure. Default: ${DEFAULT-VALUE}.")
    private List<Integer> batches;
    @Option(names = "--prompt-tokens", paramLabel = "N", defaultValue = "32", description = "Prompt length per sequence. Default: ${DEFAULT-VALUE}.")
    private int promptTokens;
    @Option(names = "--tokens", paramLabel = "N", defaultValue = "128", description = "Tokens to decode per sequence. Default: ${DEFAULT-VALUE}.")
    private int tokens;
    @Option(names = "--warmup-tokens", paramLabel = "N", defaultValue = "32", description = "Untimed decode steps first, and at least 2 s of them (JIT). Default: ${DEFAULT-VALUE}.")
    private int warmupTokens;
    @Mixin
    private EngineFlags engine;
    @Option(names = "--kernels", paramLabel = "NAME", split = ",", defaultValue = "vector,openblas",
            description = "CPU kernels to compare, the default first. Default: ${DEFAULT-VALUE}.")
    private List<String> kernels;
    @Option(names = "--weights", paramLabel = "KIND", split = ",", defaultValue = "f32",
            description = "Storage kinds to convert the model's matrices to at load and measure in turn: f32, bf16, "
                    + "f16, q8_0, q4_0. Default: ${DEFAULT-VALUE}.")
    private List<String> weights;
    @Option(names = "--overlap", paramLabel = "on|off", split = ",", defaultValue = "on",
            description = "At --pp > 1: stage transfers overlapped with computation (on), or each send waits for the "
                    + "next stage (off); a list measures each. Default: ${DEFAULT-VALUE}.")
    private List<String> overlap;
    @Option(names = "--json", description = "Print the results as one JSON object.")
    private boolean json;
    @Option(names = "--shared-prefix-tokens", paramLabel = "N", defaultValue = "0",
            description = "Replica mode: every prompt starts with the same N tokens (after BOS), then "
                    + "--prompt-tokens of its own. Default: ${DEFAULT-VALUE}.")
    private int sharedPrefixTokens;
    @Option(names = "--kv-cache-memory", paramLabel = "SIZE", description = "Replica mode: the KV budget of the "
            + "replica (all ranks), in bytes with an optional k, m or g suffix. Default: derived from the model "
            + "and the heap.")
    private String kvCacheMemory;
    @Option(names = "--kv-block-size", paramLabel = "N", description = "Replica mode: positions per KV block. "
            + "Default: " + io.streaminfer.compute.KvGeometry.DEFAULT_BLOCK_SIZE + ".")
    private Integer kvBlockSize;
    @Option(names = "--prompts", paramLabel = "N", description = "Replica mode: prompts per row. Default: the "
            + "batch size.")
    private Integer prompts;

    private KvCacheSettings kvSettings;

    private List<StorageKind> kinds;
    private List<Boolean> overlaps;

    private static StorageKind storageKind(String name) {
        StorageKind kind;
        try {
            kind = StorageKind.valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            kind = null;
        }
        if (kind == null || kind == StorageKind.Q4_K || kind == StorageKind.Q6_K) {
            throw new IllegalArgumentException("--weights '" + name + "' is not one of f32, bf16, f16, q8_0, q4_0");
        }
        return kind;
    }

    private static boolean onOff(String value) {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("--overlap '" + value + "' is not on or off");
        };
    }

    @Override
    void checkFlags() {
        FileChecks.requireGiven("--model", model);
        engine.checkPipelineDegrees();
        if (SyntheticCheckpoint.isDescription(model)) {
            engine.checkPipelineLayers(ModelChecks.checkSynthetic(model, null, engine.tp,
                    engine.largestPipelineDegree()));
        } else {
            FileChecks.readableFileOrDirectory("--model", model);
            engine.checkPipelineLayers(ModelChecks.checkModel(model, null, engine.tp,
                    engine.largestPipelineDegree()).config());
        }
        overlaps = overlap.stream().map(BenchCommand::onOff).toList();
        for (String k : kernels) {
            EngineRuns.checkKernel(engine.backend, k);
        }
        kinds = weights.stream().map(BenchCommand::storageKind).toList();
        engine.checkThreads();
        for (int b : batches) {
            if (b < 1) {
                throw new IllegalArgumentException("--batch sizes must be >= 1, got " + b);
            }
        }
        if (promptTokens < 1 || tokens < 1 || warmupTokens < 0 || engine.tp < 1) {
            throw new IllegalArgumentException("--prompt-tokens, --tokens and --tp must be >= 1 and "
                    + "--warmup-tokens >= 0");
        }
        if (sharedPrefixTokens < 0) {
            throw new IllegalArgumentException("--shared-prefix-tokens must be >= 0, got " + sharedPrefixTokens);
        }
        if (prompts != null && prompts < 1) {
            throw new IllegalArgumentException("--prompts must be >= 1, got " + prompts);
        }
        kvSettings = KvCacheSettings.defaults();
        if (kvCacheMemory != null) {
            kvSettings = kvSettings.withMemory(KvCacheSettings.parseSize("--kv-cache-memory", kvCacheMemory));
        }
        if (kvBlockSize != null) {
            if (kvBlockSize < 8 || kvBlockSize % 8 != 0) {
                throw new IllegalArgumentException("--kv-block-size must be a positive multiple of 8, got "
                        + kvBlockSize);
            }
            kvSettings = kvSettings.withBlockSize(kvBlockSize);
        }
        if (replicaMode() && !(kinds.size() == 1 && kinds.get(0) == StorageKind.F32)) {
            throw new IllegalArgumentException("--weights applies to the kernel bench, not with "
                    + "--shared-prefix-tokens, --kv-cache-memory, --kv-block-size or --prompts");
        }
    }

    private boolean replicaMode() {
        return sharedPrefixTokens > 0 || kvCacheMemory != null || kvBlockSize != null || prompts != null;
    }

    private Integer runReplicaMode() {
        ServingBenchmark.Report report;
        try {
            report = ServingBenchmark.run(new ServingBenchmark.Options(model, batches, sharedPrefixTokens,
                    promptTokens, tokens, prompts == null ? 0 : prompts, engine.tp, engine.threadsPerRank(),
                    engine.backendName(kernels.get(0)), kvSettings));
        } catch (Exception e) {
            throw new CommandLine.ExecutionException(spec().commandLine(), EngineRuns.describe(e), e);
        }
        PrintWriter out = spec().commandLine().getOut();
        out.println(json ? report.json() : report.table());
        out.flush();
        return Cli.EXIT_OK;
    }

    @Override
    Integer run() {
        if (replicaMode()) {
            return runReplicaMode();
        }
        int threadsPerRank = engine.threadsPerRank();
        List<String> backends = kernels.stream().map(engine::backendName).toList();
        EngineBenchmark.Report report;
        try {
            report = EngineBenchmark.run(new EngineBenchmark.Options(model, batches, tokens, warmupTokens, promptTokens,
                    engine.tp, threadsPerRank, backends, kinds, engine.pp, overlaps, List.copyOf(engine.ppLayers)));
        } catch (Exception e) {
            throw new CommandLine.ExecutionException(spec().commandLine(), EngineRuns.describe(e), e);
        }
        PrintWriter out = spec().commandLine().getOut();
        out.println(json ? report.json() : report.table());
        if (!json) {
            out.println("reproduce: java -jar flink-job/target/streaminfer.jar bench --model " + model + " --batch-sizes "
                    + batches.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","))
                    + " --prompt-tokens " + promptTokens + " --tokens " + tokens + " --tp " + engine.tp + " --pp "
                    + engine.pp.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","))
                    + (engine.ppLayers.isEmpty() ? "" : " --pp-layers " + engine.ppLayers.stream()
                            .map(String::valueOf).collect(java.util.stream.Collectors.joining(",")))
                    + " --overlap " + String.join(",", overlap) + " --threads " + threadsPerRank + " --weights "
                    + String.join(",", weights));
        }
        out.flush();
        return Cli.EXIT_OK;
    }
}
