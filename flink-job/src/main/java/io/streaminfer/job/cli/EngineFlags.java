package io.streaminfer.job.cli;

import io.streaminfer.job.JobOptions;
import picocli.CommandLine.Option;

/**
 * The flags of the commands that run the engine in this process ({@code generate}, {@code bench}): the
 * tensor- and pipeline-parallel degrees, the backend and the threads per rank. A picocli mixin; each
 * command checks {@link #tp} in its own words; {@code --pp} is a list for {@code bench} and one degree
 * for {@code generate} ({@link #singlePipelineDegree}).
 */
final class EngineFlags {
    @Option(names = "--tp", paramLabel = "N", defaultValue = "1", description = "Tensor-parallel degree. Default: ${DEFAULT-VALUE}.")
    int tp;
    @Option(names = "--pp", paramLabel = "N", split = ",", defaultValue = "1",
            description = "Pipeline-parallel degree: stages of contiguous layers, each on a TP group of its own "
                    + "(bench: a list, each measured in turn). Default: ${DEFAULT-VALUE}.")
    java.util.List<Integer> pp;
    @Option(names = "--pp-layers", paramLabel = "N,N,...", split = ",",
            description = "Layers per pipeline stage, first to last, for the --pp degree of that many stages (e.g. "
                    + "5,1; only the last stage may hold none). Default: balanced by work.")
    java.util.List<Integer> ppLayers = new java.util.ArrayList<>();
    @Option(names = "--backend", paramLabel = "cpu|cuda", defaultValue = "cpu",
            converter = Cli.BackendConverter.class, description = "Compute backend. Default: ${DEFAULT-VALUE}.")
    JobOptions.Backend backend;
    @Option(names = "--threads", paramLabel = "N", description = "Compute threads per rank. Default: cores / (tp x pp).")
    Integer threads;

    void checkThreads() {
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        }
    }

    /** --threads, or as many as fill the cores without oversubscribing them (at the largest --pp). */
    int threadsPerRank() {
        return threads != null ? threads : EngineRuns.defaultThreads(tp * largestPipelineDegree());
    }

    /** The largest --pp: the model must have a layer for each of its stages. */
    int largestPipelineDegree() {
        return pp.stream().mapToInt(Integer::intValue).max().orElse(1);
    }

    /** Refuses a --pp below 1 (checked before the model is opened). */
    void checkPipelineDegrees() {
        for (int degree : pp) {
            if (degree < 1) {
                throw new IllegalArgumentException("--pp must be >= 1, got " + degree);
            }
        }
    }

    /** The one PP degree of a command that runs a single configuration. */
    int singlePipelineDegree() {
        if (pp.size() != 1) {
            throw new IllegalArgumentException("--pp takes one degree here, got " + pp);
        }
        checkPipelineDegrees();
        return pp.get(0);
    }

    /**
     * Refuses --pp-layers that no --pp degree above 1 has as many stages as, or that do not split the model
     * (checked before the model is loaded, with its header).
     */
    void checkPipelineLayers(io.streaminfer.model.ModelConfig config) {
        if (ppLayers.isEmpty()) {
            return;
        }
        for (int degree : pp) {
            if (degree > 1) {
                io.streaminfer.model.StageSpec.split(config, degree, ppLayers);
            }
        }
        if (pp.stream().noneMatch(degree -> degree > 1)) {
            throw new IllegalArgumentException("--pp-layers needs --pp 2 or more");
        }
    }

    /** --pp-layers for a run at PP degree {@code degree} (none at PP=1). */
    java.util.List<Integer> layersFor(int degree) {
        return degree > 1 ? java.util.List.copyOf(ppLayers) : java.util.List.of();
    }

    /** The replica's backend name: the CPU kernel, or cuda. */
    String backendName(String kernel) {
        return EngineRuns.backendName(backend, kernel);
    }
}
