package io.streaminfer.job.cli;

import io.streaminfer.job.JobOptions;
import java.util.Locale;
import picocli.CommandLine;

/** Exit codes and the one-line error reporting shared by every command. */
public final class Cli {
    public static final int EXIT_OK = 0;
    /** The command ran and failed. */
    public static final int EXIT_FAILURE = 1;
    /** Wrong flag, bad value, unreadable file: nothing ran. */
    public static final int EXIT_USAGE = 2;

    private Cli() {}

    /** Wrong flags and bad values: one line on stderr naming the problem, then exit 2. */
    public static int onParameterError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        String name = cl.getCommandSpec().qualifiedName();
        cl.getErr().println(name + ": " + oneLine(e.getMessage()) + " (see '" + name + " --help')");
        cl.getErr().flush();
        return EXIT_USAGE;
    }

    /** Anything else that escapes a command: one line, exit 1. Stack traces stay out of the user's way. */
    public static int onExecutionError(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        // Our own failures say what went wrong in their message; anything else keeps its type for the report.
        boolean ours = e instanceof IllegalStateException || e instanceof IllegalArgumentException
                || e instanceof java.io.IOException || e instanceof java.io.UncheckedIOException;
        String message = e.getMessage() == null ? e.getClass().getName()
                : ours ? e.getMessage() : e.getClass().getSimpleName() + ": " + e.getMessage();
        cl.getErr().println(cl.getCommandSpec().qualifiedName() + ": error: " + oneLine(message));
        cl.getErr().flush();
        return EXIT_FAILURE;
    }

    static String oneLine(String message) {
        return message == null ? "" : message.replaceAll("\\s*\\R\\s*", " ").trim();
    }

    /** Case-insensitive backend names with a message that lists them. */
    public static final class BackendConverter implements CommandLine.ITypeConverter<JobOptions.Backend> {
        @Override
        public JobOptions.Backend convert(String value) {
            try {
                return JobOptions.Backend.valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a backend; expected cpu or cuda");
            }
        }
    }
}
