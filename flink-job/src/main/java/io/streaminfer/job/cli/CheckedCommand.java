package io.streaminfer.job.cli;

/**
 * A command whose arguments can be checked before it runs (files readable, values in range), so that a
 * usage error is reported before the JVM is relaunched or anything heavy starts.
 */
public interface CheckedCommand {
    /** @throws picocli.CommandLine.ParameterException naming the flag that is wrong */
    void check();
}
