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
import io.streaminfer.job.convert.SeedDerivation;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code streaminfer generate}: one prompt, straight through the engine, no Flink. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate a completion for one prompt with the engine alone (no Flink, no Kafka).")
public final class GenerateCommand extends CliCommand {
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
    @Mixin
    private EngineFlags engine;
    @Option(names = "--kernel", paramLabel = "NAME", defaultValue = "vector",
            description = "CPU kernel: vector (batch-invariant, default), openblas (fast path, not batch-invariant) or scalar (reference).")
    private String kernel;
    @Option(names = "--json", description = "Print one JSON object: prompt_token_ids, token_ids, text, finish_reason, timings.")
    private boolean json;

    private SamplingParams params;
    private ModelDescription description;

    public SamplingParams params() {
        return params;
    }

    @Override
    void checkFlags() {
        FileChecks.requireGiven("--model", model);
        FileChecks.readableFileOrDirectory("--model", model);
        if (tokenizer != null) {
            FileChecks.readableFileOrDirectory("--tokenizer", tokenizer);
        }
        if (engine.tp < 1) {
            throw new IllegalArgumentException("--tp must be >= 1, got " + engine.tp);
        }
        // Refuse a TP degree the model cannot be split by, or a tokenizer that is not the model's, before any
        // weight is touched: the header and the tokenizer are all it takes.
        description = ModelChecks.check(model, tokenizer, engine.tp, engine.singlePipelineDegree());
        engine.checkPipelineLayers(description.config());
        if (!description.hasTokenizer()) {
            throw new IllegalArgumentException("missing --tokenizer: " + model + " carries no tokenizer");
        }
        engine.checkThreads();
        EngineRuns.checkKernel(engine.backend, kernel);
        long s = seed != null ? seed : SeedDerivation.seedFromId(prompt);
        params = new SamplingParams(temperature, topP, topK, maxTokens, s, stop, false);
    }

    @Override
    Integer run() {
        ReplicaConfig config = ReplicaConfig.defaults(model, tokenizer, engine.tp)
                .withBackend(engine.backendName(kernel), engine.threadsPerRank()).withBatch(1, 256)
                .withPipeline(engine.singlePipelineDegree(), true)
                .withPipelineLayers(engine.layersFor(engine.singlePipelineDegree()));
        PrintWriter out = spec().commandLine().getOut();
        PrintWriter err = spec().commandLine().getErr();
        GenerationRequest request;
        try {
            // Tokenized once, by the rule the jobs apply: a prompt too long for the context is refused
            // before any weight loads, in the words a job's dead letter gives.
            request = RequestPreparation.of(description, description.loadTokenizer())
                    .tokenize(GenerationRequest.ofText("generate", prompt, params));
        } catch (InvalidRequestException e) {
            err.println(spec().qualifiedName() + ": error: " + e.getMessage());
            err.flush();
            return Cli.EXIT_FAILURE;
        } catch (java.io.IOException e) {
            throw new CommandLine.ExecutionException(spec().commandLine(), "--tokenizer " + tokenizer + ": "
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
            throw new CommandLine.ExecutionException(spec().commandLine(), EngineRuns.describe(e), e);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!result.ok()) {
            err.println(spec().qualifiedName() + ": error: " + result.error());
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
