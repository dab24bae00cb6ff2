package io.streaminfer.job.cli;

import io.streaminfer.job.JobOptions;
import picocli.CommandLine.Option;

/**
 * The flags of the commands that run the engine in this process ({@code generate}, {@code bench}): the
 * tensor-parallel degree, the backend and the threads per rank. A picocli mixin; each command checks
 * {@link #tp} in its own words.
 */
final class EngineFlags {
    @Option(names = "--tp", paramLabel = "N", defaultValue = "1", description = "Tensor-parallel degree. Default: ${DEFAULT-VALUE}.")
    int tp;
    @Option(names = "--backend", paramLabel = "cpu|cuda", defaultValue = "cpu",
            converter = Cli.BackendConverter.class, description = "Compute backend. Default: ${DEFAULT-VALUE}.")
    JobOptions.Backend backend;
    @Option(names = "--threads", paramLabel = "N", description = "Compute threads per TP rank. Default: cores / tp.")
    Integer threads;

    void checkThreads() {
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        }
    }

    /** --threads, or as many as fill the cores without oversubscribing them. */
    int threadsPerRank() {
        return threads != null ? threads : EngineRuns.defaultThreads(tp);
    }

    /** The replica's backend name: the CPU kernel, or cuda. */
    String backendName(String kernel) {
        return EngineRuns.backendName(backend, kernel);
    }
}
