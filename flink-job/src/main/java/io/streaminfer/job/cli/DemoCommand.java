package io.streaminfer.job.cli;

import io.streaminfer.job.JobOptions;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.flink.configuration.Configuration;
import io.streaminfer.job.local.Demo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code streaminfer demo}: the whole pipeline in one process, with an embedded broker and a MiniCluster. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run everything in this process: an embedded Kafka broker, a Flink MiniCluster and the job; "
                + "produce sample prompts and print the completions."})
public final class DemoCommand extends JobCommand {
    @Option(names = "--models-dir", paramLabel = "DIR",
            description = "Where the demo looks for stories260K.bin and tok512.bin when --model/--tokenizer are not "
                    + "given. Default: ../shared/models, then ../../shared/models.")
    private Path modelsDir;

    /** Said when the command runs, not when it is checked (the Vector-API relaunch checks twice). */
    private String syntheticNotice;

    public static CommandLine commandLine() {
        return commandLine(new DemoCommand(), JobOptions.demoFlags());
    }

    @Override
    Configuration checked(Configuration given) {
        Optional<Path> shared = sharedModels();
        boolean haveModel = given.getOptional(JobOptions.MODEL_PATH).isPresent()
                || shared.map(d -> java.nio.file.Files.isRegularFile(d.resolve("stories260K.bin"))).orElse(false);
        if (!haveModel) {
            syntheticModel(given);
        }
        return JobConfigChecks.checkDemo(given, shared);
    }

    @Override
    int runJob(Configuration configuration, CommandLine commandLine) throws Exception {
        if (syntheticNotice != null) {
            commandLine.getErr().println(syntheticNotice);
            commandLine.getErr().flush();
        }
        return Demo.run(configuration, commandLine.getOut());
    }

    /**
     * Without stories260K the demo still runs the whole pipeline, on a deterministic random-weight model of
     * the same shape and a synthetic tokenizer, and says so: its texts are gibberish.
     */
    private void syntheticModel(Configuration config) {
        try {
            Path dir = java.nio.file.Files.createDirectories(
                    Path.of(System.getProperty("java.io.tmpdir"), "streaminfer-synthetic"));
            Path model = io.streaminfer.engine.ModelFiles.resolve("synthetic:stories260K,seed=1");
            Path tokenizer = dir.resolve("synthetic-tok512.bin");
            io.streaminfer.model.SyntheticTokenizer.write(tokenizer, 512);
            config.set(JobOptions.MODEL_PATH, model.toString());
            config.setString(JobOptions.TOKENIZER_PATH.key(), tokenizer.toString());
            syntheticNotice = ("demo: no stories260K.bin found (looked in ../shared/models and "
                    + "../../shared/models; --models-dir or --model sets it): using a deterministic synthetic model "
                    + "with random weights, so the texts will be gibberish");
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot write the synthetic demo model: " + e.getMessage(), e);
        }
    }

    private Optional<Path> sharedModels() {
        if (modelsDir != null) {
            return Optional.of(modelsDir);
        }
        for (String candidate : new String[] {"../shared/models", "../../shared/models"}) {
            Path p = Path.of(candidate);
            if (java.nio.file.Files.isDirectory(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
