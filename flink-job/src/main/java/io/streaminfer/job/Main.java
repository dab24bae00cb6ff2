package io.streaminfer.job;

import io.streaminfer.job.cli.BenchCommand;
import io.streaminfer.job.cli.BenchJobCommand;
import io.streaminfer.job.cli.CheckedCommand;
import io.streaminfer.job.cli.Cli;
import io.streaminfer.job.cli.DemoCommand;
import io.streaminfer.job.cli.GenerateCommand;
import io.streaminfer.job.cli.RunCommand;
import io.streaminfer.job.cli.TokenizeCommand;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Entry point of streaminfer.jar: makes sure the Vector API is loaded, then dispatches to the commands. */
@Command(name = "streaminfer", mixinStandardHelpOptions = true, version = "streaminfer 0.3.0",
        description = "LLM batch inference on Apache Flink: prompts in, data-parallel replicas of tensor-parallel groups, completions out.",
        footer = {"", "Exit codes: 0 done, 1 failed, 2 wrong usage (bad flag, value or file)."})
public final class Main implements Callable<Integer> {
    private static final String ALL_OPTIONS_SECTION = "allCommandOptions";

    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        // Parse and check first (cheap, no engine classes), so --help and usage errors answer at once
        // with one line; then, before any command runs, make sure the Vector API is loaded, which may
        // re-execute this JVM with --add-modules jdk.incubator.vector and exit with the child's code.
        Runnable beforeRun = () -> VectorLauncher.ensureVectorModule(Main.class.getName(), args, System.err);
        System.exit(commandLine(beforeRun).execute(args));
    }

    /** The whole CLI, ready to {@code execute(args)}; errors print one line to its err writer. */
    public static CommandLine commandLine() {
        return commandLine(() -> { });
    }

    /**
     * @param beforeRun runs after the arguments parsed and {@link CheckedCommand#check() checked}, right
     *     before the command itself (not for --help, --version or usage errors)
     */
    public static CommandLine commandLine(Runnable beforeRun) {
        CommandLine cl = new CommandLine(new Main())
                .addSubcommand("generate", new CommandLine(new GenerateCommand()))
                .addSubcommand("bench", new CommandLine(new BenchCommand()))
                .addSubcommand("run", RunCommand.commandLine())
                .addSubcommand("demo", DemoCommand.commandLine())
                .addSubcommand("bench-job", new CommandLine(new BenchJobCommand()))
                .addSubcommand("tokenize", new CommandLine(new TokenizeCommand()));
        cl.setParameterExceptionHandler(Cli::onParameterError);
        cl.setExecutionExceptionHandler(Cli::onExecutionError);
        cl.setExecutionStrategy(parsed -> {
            Integer helpExit = CommandLine.executeHelpRequest(parsed);
            if (helpExit != null) {
                return helpExit;
            }
            Object command = leaf(parsed).commandSpec().userObject();
            if (command instanceof CheckedCommand checked) {
                checked.check();
            }
            beforeRun.run();
            return new CommandLine.RunLast().execute(parsed);
        });
        // The top-level help lists every command with all of its flags, not just the command names.
        cl.getHelpSectionMap().put(ALL_OPTIONS_SECTION, help -> {
            StringBuilder out = new StringBuilder();
            for (Map.Entry<String, CommandLine.Help> sub : help.subcommands().entrySet()) {
                CommandLine.Help subHelp = sub.getValue();
                out.append(String.format("%n%s%n", subHelp.synopsis(0).strip()));
                out.append(subHelp.optionList());
            }
            return out.toString();
        });
        java.util.List<String> keys = new java.util.ArrayList<>(cl.getHelpSectionKeys());
        keys.add(keys.indexOf(CommandLine.Model.UsageMessageSpec.SECTION_KEY_FOOTER_HEADING), ALL_OPTIONS_SECTION);
        cl.setHelpSectionKeys(keys);
        return cl;
    }

    private static CommandLine.ParseResult leaf(CommandLine.ParseResult parsed) {
        CommandLine.ParseResult p = parsed;
        while (p.hasSubcommand()) {
            p = p.subcommand();
        }
        return p;
    }

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command: one of generate, bench, run, demo");
    }
}
