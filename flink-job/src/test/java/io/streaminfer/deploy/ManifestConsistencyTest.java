package io.streaminfer.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** deploy/k8s must agree with itself: GPUs per TaskManager = --tp x --pp, parallelism = --parallelism = DP. */
class ManifestConsistencyTest {

    private static final Path K8S = K8sManifests.k8sDir();
    private static final Path DEPLOYMENT = K8S.resolve("flinkdeployment.yaml");
    private static final Path TOPICS = K8S.resolve("kafka-topics.yaml");

    @TempDir
    Path tmp;

    @Test
    void manifestsInTheRepositoryAreConsistent() throws IOException {
        assertEquals(List.of(), K8sManifests.problems(DEPLOYMENT, TOPICS));
    }

    /** In a copy of a manifest, the text {@code from} becomes {@code to}. */
    private record Edit(String from, String to) {}

    /** Edits of one manifest that each break a rule, and the problems the check must then report. */
    static Stream<Arguments> breakingEdits() {
        return Stream.of(
                Arguments.of("GPU count changed without --tp", DEPLOYMENT,
                        List.of(new Edit("limits:\n                nvidia.com/gpu: 2", "limits:\n                nvidia.com/gpu: 4")),
                        List.of("nvidia.com/gpu limit (4) differs from --tp 2 x --pp 1 = 2")),
                Arguments.of("--tp changed without the GPU count", DEPLOYMENT,
                        List.of(new Edit("- --tp\n      - \"2\"", "- --tp\n      - \"4\"")),
                        List.of("nvidia.com/gpu limit (2) differs from --tp 4 x --pp 1 = 4",
                                "nvidia.com/gpu request (2) differs from --tp 4 x --pp 1 = 4")),
                Arguments.of("--pp changed without the GPU count", DEPLOYMENT,
                        List.of(new Edit("- --pp\n      - \"1\"", "- --pp\n      - \"2\"")),
                        List.of("nvidia.com/gpu limit (2) differs from --tp 2 x --pp 2 = 4",
                                "nvidia.com/gpu request (2) differs from --tp 2 x --pp 2 = 4")),
                Arguments.of("GPUs sized for TP x PP", DEPLOYMENT,
                        List.of(new Edit("- --pp\n      - \"1\"", "- --pp\n      - \"2\""),
                                new Edit("nvidia.com/gpu: 2   # = --tp x --pp", "nvidia.com/gpu: 4   # = --tp x --pp"),
                                new Edit("parallelism: 2   # = DP", "parallelism: 3   # = DP")),
                        List.of("spec.job.parallelism (3) differs from --parallelism 2")),
                Arguments.of("parallelism changed without DP", DEPLOYMENT,
                        List.of(new Edit("parallelism: 2   # = DP", "parallelism: 3   # = DP")),
                        List.of("spec.job.parallelism (3) differs from --parallelism 2")),
                Arguments.of("DP changed without parallelism", DEPLOYMENT,
                        List.of(new Edit("- --parallelism\n      - \"2\"", "- --parallelism\n      - \"4\"")),
                        List.of("spec.job.parallelism (2) differs from --parallelism 4")),
                Arguments.of("more than one slot per TaskManager", DEPLOYMENT,
                        List.of(new Edit("taskmanager.numberOfTaskSlots: \"1\"", "taskmanager.numberOfTaskSlots: \"2\"")),
                        List.of("taskmanager.numberOfTaskSlots must be \"1\"")),
                Arguments.of("local checkpoints and stateless upgrades", DEPLOYMENT,
                        List.of(new Edit("execution.checkpointing.dir: s3://", "execution.checkpointing.dir: file:///tmp/"),
                                new Edit("upgradeMode: savepoint", "upgradeMode: stateless")),
                        List.of("execution.checkpointing.dir must point to durable storage", "upgradeMode must be savepoint")),
                Arguments.of("prompt topic with fewer partitions than DP", TOPICS,
                        List.of(new Edit("name: prompts\n  namespace: kafka\n  labels:\n    strimzi.io/cluster: streaminfer\nspec:\n  partitions: 8",
                                "name: prompts\n  namespace: kafka\n  labels:\n    strimzi.io/cluster: streaminfer\nspec:\n  partitions: 1")),
                        List.of("topic prompts has 1 partitions, fewer than DP 2")),
                Arguments.of("missing topic", TOPICS,
                        List.of(new Edit("name: dead-letters", "name: dead-letter")),
                        List.of("no KafkaTopic named dead-letters")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("breakingEdits")
    void anEditThatBreaksARuleIsReported(String name, Path manifest, List<Edit> edits, List<String> expected)
            throws IOException {
        Path copy = manifest;
        for (Edit edit : edits) {
            copy = mutate(copy, edit.from(), edit.to());
        }
        for (String problem : expected) {
            if (manifest.equals(TOPICS)) {
                assertProblem(DEPLOYMENT, copy, problem);
            } else {
                assertProblem(copy, TOPICS, problem);
            }
        }
    }

    @Test
    void unparsableManifestFailsLoudly() throws IOException {
        Path broken = tmp.resolve("broken.yaml");
        Files.writeString(broken, "spec: [unclosed\n");
        assertThrows(Exception.class, () -> K8sManifests.problems(broken, TOPICS));
    }

    private Path mutate(Path original, String from, String to) throws IOException {
        String text = Files.readString(original);
        assertTrue(text.contains(from), () -> original.getFileName() + " no longer contains the text this test edits: " + from);
        Path copy = Files.createTempFile(tmp, "mutated-", ".yaml");
        Files.writeString(copy, text.replace(from, to));
        return copy;
    }

    private static void assertProblem(Path deployment, Path topics, String expected) throws IOException {
        List<String> problems = K8sManifests.problems(deployment, topics);
        assertTrue(problems.stream().anyMatch(p -> p.contains(expected)),
                () -> "expected a problem containing '" + expected + "', got " + problems);
    }
}
