package io.streaminfer.job.cli;

import io.streaminfer.job.JobOptions;
import io.streaminfer.job.local.JobFailures;
import io.streaminfer.job.local.JobRunner;
import io.streaminfer.job.pipeline.OfflineSummary;
import java.nio.file.Path;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code streaminfer run}: the inference job, from Kafka or from files. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the inference job on Flink: Avro prompts from Kafka to completions in Kafka (exactly once), "
                + "or offline: JSON Lines prompts from --input to JSON Lines files in --output."})
public final class RunCommand extends JobCommand {

    /** A command line for {@code run} with every {@link JobOptions#runFlags()} flag bound. */
    public static CommandLine commandLine() {
        return commandLine(new RunCommand(), JobOptions.runFlags());
    }

    @Override
    Configuration checked(Configuration given) {
        return JobConfigChecks.checkRun(given);
    }

    @Override
    int runJob(Configuration configuration, CommandLine commandLine) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        // Under java -jar the job computes in this process, so a backend it lacks is a usage error; under
        // 'flink run' the TaskManagers may have what the client has not, and a replica that lacks it
        // fails the job once (SetupFailedException).
        if (env instanceof LocalStreamEnvironment && configuration.get(JobOptions.BACKEND) == JobOptions.Backend.CUDA) {
            EngineRuns.requireAvailable("cuda");
        }
        env.configure(JobRunner.flinkSettings(env.getConfiguration()));
        JobRunner.build(env, configuration);
        JobExecutionResult result;
        try {
            result = env.execute(JobRunner.jobName(configuration));
        } catch (Exception e) {
            throw new IllegalStateException("the job failed: " + JobFailures.describe(e), e);
        }
        Path output = JobRunner.offline(configuration) ? Path.of(configuration.get(JobOptions.OUTPUT_PATH)) : null;
        // A detached submission has not finished yet: nothing to count.
        if (output != null && result.isJobExecutionResult()) {
            // The run's account, read back from its files: it adds up, or names the lines without an answer.
            OfflineSummary summary = OfflineSummary.of(Path.of(configuration.get(JobOptions.INPUT_PATH)), output);
            commandLine.getOut().print(summary.render());
            commandLine.getOut().flush();
            return summary.addsUp() ? Cli.EXIT_OK : Cli.EXIT_FAILURE;
        }
        return Cli.EXIT_OK;
    }
}
