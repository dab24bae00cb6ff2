package io.streaminfer.job.cli;

import io.streaminfer.engine.BlockingReplica;
import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.InvalidRequestException;
import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.engine.RequestPreparation;
import io.streaminfer.engine.SamplingParams;
import java.io.PrintWriter;
import java.time.Duration;
import io.streaminfer.job.JobOptions;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.job.convert.SeedDerivation;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code streaminfer generate}: one prompt, straight through the engine, no Flink. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate a completion for one prompt with the engine alone (no Flink, no Kafka).")
public final class GenerateCommand implements Callable<Integer>, CheckedCommand {
    @Spec
    private CommandSpec spec;

    @Option(names = "--model", paramLabel = "PATH", description = "A llama2.c checkpoint, a GGUF file or a Hugging "
            + "Face model directory (the format is detected).")
    private String model;
    @Option(names = "--tokenizer", paramLabel = "PATH", description = "A llama2.c tokenizer.bin, a tokenizer.json or a "
            + "directory holding one. Default: the tokenizer a GGUF file or a Hugging Face directory carries.")
    private String tokenizer;
    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", defaultValue = "",
            description = "Prompt text. Default: empty (the model starts from BOS).")
    private String prompt;
    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", defaultValue = "256", description = "Most tokens to generate. Default: ${DEFAULT-VALUE}.")
    private int maxTokens;
    @Option(names = {"-t", "--temperature"}, paramLabel = "T", defaultValue = "1.0", description = "0 is greedy. Default: ${DEFAULT-VALUE}.")
    private float temperature;
    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1.0", description = "Nucleus mass in (0, 1]. Default: ${DEFAULT-VALUE}.")
    private float topP;
    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Keep the K most likely tokens; 0 is off. Default: ${DEFAULT-VALUE}.")
    private int topK;
    @Option(names = "--seed", paramLabel = "N", description = "Seed. Default: derived from the prompt text (FNV-1a).")
    private Long seed;
    @Option(names = "--stop", paramLabel = "TEXT", description = "A string that ends the completion; repeatable.")
    private List<String> stop = List.of();
    @Option(names = "--tp", paramLabel = "N", defaultValue = "1", description = "Tensor-parallel degree. Default: ${DEFAULT-VALUE}.")
    private int tp;
    @Option(names = "--backend", paramLabel = "cpu|cuda", defaultValue = "cpu",
            converter = Cli.BackendConverter.class, description = "Compute backend. Default: ${DEFAULT-VALUE}.")
    private JobOptions.Backend backend;
    @Option(names = "--kernel", paramLabel = "NAME", defaultValue = "vector",
            description = "CPU kernel: vector (batch-invariant, default), openblas (fast path, not batch-invariant) or scalar (reference).")
    private String kernel;
    @Option(names = "--threads", paramLabel = "N",
            description = "Compute threads per TP rank. Default: cores / tp.")
    private Integer threads;
    @Option(names = "--json", description = "Print one JSON object: prompt_token_ids, token_ids, text, finish_reason, timings.")
    private boolean json;

    private SamplingParams params;
    private ModelDescription description;

    public SamplingParams params() {
        return params;
    }

    private boolean checked;

    @Override
    public void check() {
        try {
            FileChecks.requireGiven("--model", model);
            FileChecks.readableFileOrDirectory("--model", model);
            if (tokenizer != null) {
                FileChecks.readableFileOrDirectory("--tokenizer", tokenizer);
            }
            if (tp < 1) {
                throw new IllegalArgumentException("--tp must be >= 1, got " + tp);
            }
            // Refuse a TP degree the model cannot be split by before any weight is touched: the header
            // is all it takes.
            ReplicaConfig replica = ReplicaConfig.defaults(model, tokenizer, tp);
            try (io.streaminfer.model.Checkpoint checkpoint = ModelDescription.openCheckpoint(replica)) {
                description = ModelDescription.of(replica, checkpoint.config());
                ShardSpec.check(checkpoint, tp);
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("--model " + model + ": " + e.getMessage(), e);
            }
            if (!description.hasTokenizer()) {
                throw new IllegalArgumentException("missing --tokenizer: " + model + " carries no tokenizer");
            }
            if (threads != null && threads < 1) {
                throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            }
            EngineRuns.checkKernel(backend, kernel);
            long s = seed != null ? seed : SeedDerivation.seedFromId(prompt);
            params = new SamplingParams(temperature, topP, topK, maxTokens, s, stop, false);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        checked = true;
    }

    @Override
    public Integer call() {
        if (!checked) {
            check();
        }
        int threadsPerRank = threads != null ? threads : EngineRuns.defaultThreads(tp);
        ReplicaConfig config = ReplicaConfig.defaults(model, tokenizer, tp)
                .withBackend(EngineRuns.backendName(backend, kernel), threadsPerRank).withBatch(1, 256);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        GenerationRequest request;
        try {
            // Tokenized once, by the rule the jobs apply: a prompt too long for the context is refused
            // before any weight loads, in the words a job's dead letter gives.
            request = RequestPreparation.of(description, description.loadTokenizer())
                    .tokenize(GenerationRequest.ofText("generate", prompt, params));
        } catch (InvalidRequestException e) {
            err.println(spec.qualifiedName() + ": error: " + e.getMessage());
            err.flush();
            return Cli.EXIT_FAILURE;
        } catch (java.io.IOException e) {
            throw new CommandLine.ExecutionException(spec.commandLine(), "--tokenizer " + tokenizer + ": "
                    + e.getMessage(), e);
        }
        GenerationResult result;
        long start = System.nanoTime();
        try (BlockingReplica replica = new BlockingReplica(config, Duration.ofHours(24))) {
            result = replica.runOne(request);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Cli.EXIT_FAILURE;
        } catch (Exception e) {
            throw new CommandLine.ExecutionException(spec.commandLine(), EngineRuns.describe(e), e);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!result.ok()) {
            err.println(spec.qualifiedName() + ": error: " + result.error());
            err.flush();
            return Cli.EXIT_FAILURE;
        }
        if (json) {
            out.println(EngineRuns.toJson(result, config.modelName()));
        } else {
            out.println(prompt + result.text());
            err.printf(java.util.Locale.ROOT, "%d tokens in %.2f s (%.1f tok/s), finish_reason %s%n",
                    result.tokenIds().length, seconds, result.tokenIds().length / seconds,
                    result.finishReason().wireName());
        }
        out.flush();
        err.flush();
        return Cli.EXIT_OK;
    }
}
