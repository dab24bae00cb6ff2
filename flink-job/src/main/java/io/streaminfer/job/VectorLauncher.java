package io.streaminfer.job;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Makes sure the Vector API is loaded. {@code java -jar} cannot add {@code jdk.incubator.vector} from the
 * manifest, so when the module is missing this process re-executes the same JVM with
 * {@code --add-modules jdk.incubator.vector} first, the same JVM options, class path (or jar) and
 * arguments, inheriting stdin/stdout/stderr, and exits with the child's exit code. The child gets
 * {@value #NO_RELAUNCH_ENV}=1 so it never relaunches again; setting that variable yourself turns the
 * relaunch off, and then the kernels run their scalar fallback, which we say once, loudly.
 */
public final class VectorLauncher {
    public static final String NO_RELAUNCH_ENV = "STREAMINFER_NO_RELAUNCH";
    public static final String VECTOR_MODULE = "jdk.incubator.vector";

    private VectorLauncher() {}

    /** What to do at start-up. */
    public enum Decision {
        /** The module is there: nothing to do. */
        RUN,
        /** Re-execute this JVM with the module added. */
        RELAUNCH,
        /** Relaunch is off and the module is missing: run, warning that kernels are scalar. */
        RUN_SCALAR,
        /**
         * This JVM was not started for streaminfer (e.g. {@code flink run} calls our main inside its client):
         * it only builds the job graph, and a relaunch would lose the host's class path. The TaskManagers
         * that run the engine get the module from {@code env.java.opts.taskmanager}.
         */
        RUN_HOSTED
    }

    /** Whether {@code sun.java.command} shows this JVM was started for {@code mainClass} (directly or as a jar). */
    public static boolean startedFor(String sunJavaCommand, String mainClass) {
        if (sunJavaCommand == null || sunJavaCommand.isBlank()) {
            return true; // unknown: assume we are the entry point, as java -jar and java -cp are
        }
        String first = sunJavaCommand.strip().split("\\s+")[0];
        return first.equals(mainClass) || first.endsWith(".jar");
    }

    /** The start-up decision, from whether the module is loaded and the value of {@value #NO_RELAUNCH_ENV}. */
    public static Decision decide(boolean vectorModulePresent, String noRelaunchEnv) {
        return decide(vectorModulePresent, noRelaunchEnv, true);
    }

    /** As {@link #decide(boolean, String)}, knowing whether this JVM was started for our main. */
    public static Decision decide(boolean vectorModulePresent, String noRelaunchEnv, boolean entryPoint) {
        if (vectorModulePresent) {
            return Decision.RUN;
        }
        if (!entryPoint) {
            return Decision.RUN_HOSTED;
        }
        return noRelaunchEnv == null || noRelaunchEnv.isEmpty() ? Decision.RELAUNCH : Decision.RUN_SCALAR;
    }

    /**
     * The child's command line: {@code java --add-modules jdk.incubator.vector <jvm options> (-jar JAR | -cp CP MAIN) args}.
     *
     * @param javaCommand path of the running {@code java}
     * @param jvmOptions the running JVM's input arguments
     * @param classPath {@code java.class.path}
     * @param launchedAsJar whether the JVM was started with {@code -jar} (then classPath is that jar)
     */
    public static List<String> childCommand(String javaCommand, List<String> jvmOptions, String classPath,
                                            boolean launchedAsJar, String mainClass, String[] args) {
        List<String> command = new ArrayList<>();
        command.add(javaCommand);
        command.add("--add-modules");
        command.add(VECTOR_MODULE);
        command.addAll(jvmOptions);
        if (launchedAsJar) {
            command.add("-jar");
            command.add(classPath);
        } else {
            command.add("-cp");
            command.add(classPath);
            command.add(mainClass);
        }
        command.addAll(List.of(args));
        return command;
    }

    /**
     * Applies the decision for this process. Returns normally when the caller should go on in this JVM;
     * after a relaunch it exits this JVM with the child's exit code and never returns.
     */
    public static void ensureVectorModule(String mainClass, String[] args, PrintStream err) {
        boolean present = ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
        boolean entryPoint = startedFor(System.getProperty("sun.java.command"), mainClass);
        switch (decide(present, System.getenv(NO_RELAUNCH_ENV), entryPoint)) {
            case RUN:
            case RUN_HOSTED:
                return;
            case RUN_SCALAR:
                warnScalar(err, NO_RELAUNCH_ENV + " is set");
                return;
            case RELAUNCH:
                Optional<String> java = ProcessHandle.current().info().command();
                if (java.isEmpty()) {
                    warnScalar(err, "the path of the running java is unknown, so it cannot be restarted");
                    return;
                }
                String classPath = System.getProperty("java.class.path", "");
                List<String> command = childCommand(java.get(),
                        ManagementFactory.getRuntimeMXBean().getInputArguments(), classPath,
                        launchedAsJar(classPath), mainClass, args);
                int exit;
                try {
                    exit = runChild(command);
                } catch (IOException e) {
                    warnScalar(err, "restarting java with --add-modules failed: " + e.getMessage());
                    return;
                }
                System.exit(exit);
                return;
            default:
                throw new AssertionError();
        }
    }

    /** {@code sun.java.command} starts with the jar for {@code java -jar x.jar}, with the main class otherwise. */
    private static boolean launchedAsJar(String classPath) {
        String launch = System.getProperty("sun.java.command", "");
        return !classPath.isEmpty() && !classPath.contains(File.pathSeparator) && launch.startsWith(classPath);
    }

    private static int runChild(List<String> command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().put(NO_RELAUNCH_ENV, "1");
        Process child = builder.start();
        // Ctrl-C reaches the whole process group; a plain kill of this JVM must reach the child too.
        Thread stopChild = new Thread(() -> {
            child.destroy();
            try {
                child.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "streaminfer-relaunch-stop");
        Runtime.getRuntime().addShutdownHook(stopChild);
        while (true) {
            try {
                int exit = child.waitFor();
                Runtime.getRuntime().removeShutdownHook(stopChild);
                return exit;
            } catch (InterruptedException e) {
                // Keep waiting: this thread has nothing else to do, and the child owns the work.
            } catch (IllegalStateException e) {
                return child.exitValue(); // shutdown already in progress
            }
        }
    }

    private static void warnScalar(PrintStream err, String why) {
        err.println("streaminfer: WARNING: the Vector API (" + VECTOR_MODULE + ") is not loaded (" + why
                + "); kernels fall back to the slow scalar path. Start java with --add-modules " + VECTOR_MODULE + ".");
    }
}
