package io.streaminfer.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.InferenceReplica;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.SyntheticCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.runtime.throwable.ThrowableClassifier;
import org.apache.flink.runtime.throwable.ThrowableType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A replica that cannot start for a reason every restart would meet again fails as non-recoverable. */
class LocalReplicaFactoryTest {
    @TempDir
    Path dir;

    private static final InferenceReplica.Listener IGNORE = new InferenceReplica.Listener() {
        @Override
        public void onResult(GenerationResult result) {}

        @Override
        public void onFailure(Throwable cause) {}
    };

    private static void assertNonRecoverable(Exception e, String fragment) {
        assertInstanceOf(SetupFailedException.class, e);
        assertTrue(e.getMessage().contains(fragment) && e.getMessage().contains("every restart"), e.getMessage());
        assertTrue(ThrowableClassifier.findThrowableOfThrowableType(e, ThrowableType.NonRecoverableError).isPresent(),
                "Flink's failover classifies it as non-recoverable");
    }

    @Test
    void aModelTheTaskManagerCannotReadIsNonRecoverable() throws Exception {
        Path model = dir.resolve("m.bin");
        SyntheticCheckpoint.write(model, ModelConfig.llama2c(8, 16, 1, 2, 2, 384, 8, true), 1);
        ReplicaConfig config = ReplicaConfig.defaults(model.toString(), null, 1);
        Files.delete(model);
        Exception e = assertThrows(Exception.class, () -> new LocalReplicaFactory(config).create(0, IGNORE));
        assertNonRecoverable(e, "replica 0 cannot load --model " + model);
    }

    @Test
    void aBackendTheTaskManagerLacksIsNonRecoverable() throws Exception {
        Assumptions.assumeTrue(io.streaminfer.cuda.CudaSupport.unavailableReason() != null,
                "a CUDA device is present: the refusal cannot be tested here");
        Path model = dir.resolve("m.bin");
        SyntheticCheckpoint.write(model, ModelConfig.llama2c(8, 16, 1, 2, 2, 384, 8, true), 1);
        ReplicaConfig config = ReplicaConfig.defaults(model.toString(), null, 1).withBackend("cuda", 1);
        Exception e = assertThrows(Exception.class, () -> new LocalReplicaFactory(config).create(0, IGNORE));
        assertNonRecoverable(e, "replica 0 cannot use backend cuda");
    }
}
