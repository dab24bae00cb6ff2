package io.streaminfer.job.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command whose flags are checked once, before it runs: {@link #check()} (called by the CLI before any
 * relaunch, or by {@link #call()} when it was not) turns an {@link IllegalArgumentException} from
 * {@link #checkFlags()} into a usage error (exit 2) on its message; {@link #call()} then {@link #run()}s.
 */
abstract class CliCommand implements Callable<Integer>, CheckedCommand {
    @Spec
    private CommandSpec spec;
    private boolean checked;

    CommandSpec spec() {
        return spec;
    }

    /** @throws IllegalArgumentException naming the flag that is wrong */
    abstract void checkFlags();

    /** Runs the checked command; returns its exit code. */
    abstract Integer run() throws Exception;

    @Override
    public final void check() {
        try {
            checkFlags();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        checked = true;
    }

    @Override
    public final Integer call() throws Exception {
        if (!checked) {
            check();
        }
        return run();
    }
}
