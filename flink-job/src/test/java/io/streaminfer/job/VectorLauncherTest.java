package io.streaminfer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streaminfer.job.VectorLauncher.Decision;
import java.util.List;
import org.junit.jupiter.api.Test;

class VectorLauncherTest {

    @Test
    void decisionIsAFunctionOfModuleAndEnvironment() {
        assertEquals(Decision.RUN, VectorLauncher.decide(true, null));
        assertEquals(Decision.RUN, VectorLauncher.decide(true, "1"));
        assertEquals(Decision.RELAUNCH, VectorLauncher.decide(false, null));
        assertEquals(Decision.RELAUNCH, VectorLauncher.decide(false, ""));
        assertEquals(Decision.RUN_SCALAR, VectorLauncher.decide(false, "1"));
        // Inside flink run's client JVM our main only builds the graph: never relaunch there.
        assertEquals(Decision.RUN_HOSTED, VectorLauncher.decide(false, null, false));
        assertEquals(Decision.RUN, VectorLauncher.decide(true, null, false));
        assertEquals(true, VectorLauncher.startedFor("flink-job/target/streaminfer.jar demo", "io.streaminfer.job.Main"));
        assertEquals(true, VectorLauncher.startedFor("io.streaminfer.job.Main run --tp 2", "io.streaminfer.job.Main"));
        assertEquals(false, VectorLauncher.startedFor("org.apache.flink.client.cli.CliFrontend run -d x.jar run",
                "io.streaminfer.job.Main"));
    }

    @Test
    void childCommandPutsTheModuleFirstAndKeepsJvmOptionsAndArguments() {
        List<String> jar = VectorLauncher.childCommand("/jdk/bin/java", List.of("-Xmx2g", "-Dx=y"), "/a/streaminfer.jar",
                true, "io.streaminfer.job.Main", new String[] {"run", "--tp", "2"});
        assertEquals(List.of("/jdk/bin/java", "--add-modules", "jdk.incubator.vector", "-Xmx2g", "-Dx=y",
                "-jar", "/a/streaminfer.jar", "run", "--tp", "2"), jar);
        List<String> cp = VectorLauncher.childCommand("java", List.of(), "a.jar:b.jar", false,
                "io.streaminfer.job.Main", new String[] {"--help"});
        assertEquals(List.of("java", "--add-modules", "jdk.incubator.vector", "-cp", "a.jar:b.jar",
                "io.streaminfer.job.Main", "--help"), cp);
    }

    @Test
    void testJvmHasTheModule() {
        // Surefire passes --add-modules; this guards the build setting the launcher relies on.
        assertEquals(true, ModuleLayer.boot().findModule(VectorLauncher.VECTOR_MODULE).isPresent());
    }
}
