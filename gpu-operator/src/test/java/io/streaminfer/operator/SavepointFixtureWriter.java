package io.streaminfer.operator;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes the savepoint fixtures of the state format of the code it is compiled with. Not a test of the
 * suite (its name matches neither *Test nor *ITCase): run it on purpose, from the repository root, when a
 * format is about to change, to keep a fixture of the format being replaced:
 *
 * <pre>
 * mvn -B -ntp -o -q test -pl gpu-operator -am -Dtest=SavepointFixtureWriter -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dstreaminfer.writeFixture=$PWD/gpu-operator/src/test/resources/savepoints -Dstreaminfer.fixtureVersion=v1
 * </pre>
 *
 * It fails, rather than doing nothing, when the target directory is not given.
 */
class SavepointFixtureWriter {
    static final String DIRECTORY = "streaminfer.writeFixture";
    static final String VERSION = "streaminfer.fixtureVersion";

    @Test
    void writeFixtures() throws Exception {
        String dir = System.getProperty(DIRECTORY);
        String version = System.getProperty(VERSION);
        if (dir == null || version == null) {
            throw new IllegalStateException("set -D" + DIRECTORY + "=<directory> and -D" + VERSION
                    + "=<name, e.g. v2> to write the savepoint fixtures");
        }
        Path target = Path.of(dir);

        AtomicReference<FakeReplica> fake = new AtomicReference<>();
        try (var harness = SavepointFixtures.operatorHarness(SavepointFixtures.RUNNING_SLOTS, fake)) {
            harness.open();
            OperatorSubtaskState state = SavepointFixtures.runScriptAndSnapshot(harness, fake.get());
            SavepointFixtures.write(state, target.resolve("inference-operator-" + version + ".snapshot"));
        }

        try (var harness = SavepointFixtures.typedStateHarness()) {
            harness.open();
            for (InferenceInput in : SavepointFixtures.inputs()) {
                harness.processElement(new StreamRecord<>(in));
            }
            SavepointFixtures.write(harness.snapshot(1L, 1L), target.resolve("inference-types-" + version + ".snapshot"));
        }
        System.out.println("wrote the " + version + " savepoint fixtures into " + target.toAbsolutePath());
    }
}
