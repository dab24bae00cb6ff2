package io.streaminfer.job.cli;

import io.streaminfer.job.JobOptions;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine;

/**
 * A command that runs the Flink job on the flags a {@link FlagBinder} binds from {@link JobOptions}
 * ({@code run}, {@code demo}): its check turns them into a checked typed configuration, and it runs the job
 * on that. A bad value is a usage error (exit 2); any other failure one line, exit 1.
 */
abstract class JobCommand extends CliCommand {
    private FlagBinder flags;
    private Configuration configuration;

    /** A command line for {@code command} with every one of {@code flags} bound. */
    static CommandLine commandLine(JobCommand command, List<JobOptions.Flag> flags) {
        CommandLine cl = new CommandLine(command);
        command.flags = new FlagBinder(cl.getCommandSpec(), flags);
        return cl;
    }

    /** The checked configuration of the last successful parse. */
    public Configuration configuration() {
        return configuration;
    }

    /** The configuration to run on, from the one the flags gave. */
    abstract Configuration checked(Configuration given);

    /** Runs the job on the checked configuration; returns the exit code. */
    abstract int runJob(Configuration checked, CommandLine commandLine) throws Exception;

    @Override
    final void checkFlags() {
        configuration = checked(flags.toConfiguration());
    }

    @Override
    final Integer run() {
        CommandLine commandLine = spec().commandLine();
        try {
            return runJob(configuration, commandLine);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(commandLine, e.getMessage(), e);
        } catch (Exception e) {
            throw new CommandLine.ExecutionException(commandLine, EngineRuns.describe(e), e);
        }
    }
}
