package io.streaminfer.job.cli;

import io.streaminfer.job.JobOptions;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import io.streaminfer.job.local.JobRunner;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code streaminfer run}: the inference job, from Kafka or from files. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the inference job on Flink: Avro prompts from Kafka to completions in Kafka (exactly once), "
                + "or offline: JSON Lines prompts from --input to JSON Lines files in --output."})
public final class RunCommand implements Callable<Integer>, CheckedCommand {
    @Spec
    private CommandSpec spec;
    private FlagBinder flags;
    private Configuration configuration;

    /** A command line for {@code run} with every {@link JobOptions#runFlags()} flag bound. */
    public static CommandLine commandLine() {
        RunCommand command = new RunCommand();
        CommandLine cl = new CommandLine(command);
        command.flags = new FlagBinder(cl.getCommandSpec(), JobOptions.runFlags());
        return cl;
    }

    /** The checked configuration of the last successful parse. */
    public Configuration configuration() {
        return configuration;
    }

    @Override
    public void check() {
        try {
            configuration = JobConfigChecks.checkRun(flags.toConfiguration());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    @Override
    public Integer call() {
        if (configuration == null) {
            check();
        }
        try {
            StreamExecutionEnvironment env = JobRunner.build(configuration);
            env.execute(JobRunner.jobName(configuration));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        } catch (Exception e) {
            throw new CommandLine.ExecutionException(spec.commandLine(), EngineRuns.describe(e), e);
        }
        return Cli.EXIT_OK;
    }
}
