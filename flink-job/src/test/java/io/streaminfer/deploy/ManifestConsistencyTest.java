package io.streaminfer.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** deploy/k8s must agree with itself: GPUs per TaskManager = --tp, parallelism = --parallelism = DP. */
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

    @Test
    void gpuCountChangedWithoutTpFails() throws IOException {
        Path copy = mutate(DEPLOYMENT, "limits:\n                nvidia.com/gpu: 2", "limits:\n                nvidia.com/gpu: 4");
        assertProblem(copy, TOPICS, "nvidia.com/gpu limit (4) differs from --tp 2");
    }

    @Test
    void tpChangedWithoutGpuCountFails() throws IOException {
        Path copy = mutate(DEPLOYMENT, "- --tp\n      - \"2\"", "- --tp\n      - \"4\"");
        assertProblem(copy, TOPICS, "nvidia.com/gpu limit (2) differs from --tp 4");
        assertProblem(copy, TOPICS, "nvidia.com/gpu request (2) differs from --tp 4");
    }

    @Test
    void parallelismChangedWithoutDpFails() throws IOException {
        Path copy = mutate(DEPLOYMENT, "parallelism: 2   # = DP", "parallelism: 3   # = DP");
        assertProblem(copy, TOPICS, "spec.job.parallelism (3) differs from --parallelism 2");
    }

    @Test
    void dpChangedWithoutParallelismFails() throws IOException {
        Path copy = mutate(DEPLOYMENT, "- --parallelism\n      - \"2\"", "- --parallelism\n      - \"4\"");
        assertProblem(copy, TOPICS, "spec.job.parallelism (2) differs from --parallelism 4");
    }

    @Test
    void moreThanOneSlotPerTaskManagerFails() throws IOException {
        Path copy = mutate(DEPLOYMENT, "taskmanager.numberOfTaskSlots: \"1\"", "taskmanager.numberOfTaskSlots: \"2\"");
        assertProblem(copy, TOPICS, "taskmanager.numberOfTaskSlots must be \"1\"");
    }

    @Test
    void localCheckpointsAndStatelessUpgradesFail() throws IOException {
        Path copy = mutate(DEPLOYMENT, "execution.checkpointing.dir: s3://", "execution.checkpointing.dir: file:///tmp/");
        copy = mutate(copy, "upgradeMode: savepoint", "upgradeMode: stateless");
        assertProblem(copy, TOPICS, "execution.checkpointing.dir must point to durable storage");
        assertProblem(copy, TOPICS, "upgradeMode must be savepoint");
    }

    @Test
    void promptTopicWithFewerPartitionsThanDpFails() throws IOException {
        Path topics = mutate(TOPICS, "name: prompts\n  namespace: kafka\n  labels:\n    strimzi.io/cluster: streaminfer\nspec:\n  partitions: 8",
                "name: prompts\n  namespace: kafka\n  labels:\n    strimzi.io/cluster: streaminfer\nspec:\n  partitions: 1");
        assertProblem(DEPLOYMENT, topics, "topic prompts has 1 partitions, fewer than DP 2");
    }

    @Test
    void missingTopicFails() throws IOException {
        Path topics = mutate(TOPICS, "name: dead-letters", "name: dead-letter");
        assertProblem(DEPLOYMENT, topics, "no KafkaTopic named dead-letters");
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
