package io.streaminfer.cuda;

import io.streaminfer.compute.KvGeometry;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.comm.CommGroup;
import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.engine.BlockingReplica;
import io.streaminfer.engine.ModelShards;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Llama2cCheckpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.SyntheticCheckpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Without a CUDA stack, asking for the cuda backend fails at once and names what is missing. */
class CudaRefusalTest {
    /** Any of the pieces a message may name. */
    private static final Pattern NAMES_A_LIBRARY =
            Pattern.compile("libcuda\\.so\\.1|libcudart|libcublas|libnvrtc|libnccl|no CUDA device|driver");

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void onlyWithoutCuda() throws Exception {
        String reason = CudaSupport.unavailableReason();
        Assumptions.assumeTrue(reason != null,
                "skipped: a usable CUDA stack is present here, so there is no refusal to test");
        model = dir.resolve("tiny.bin");
        SyntheticCheckpoint.write(model, ModelConfig.llama2c(32, 64, 1, 4, 4, 64, 16, true), 3);
    }

    @Test
    void supportNamesTheMissingLibrary() {
        String reason = CudaSupport.unavailableReason();
        assertTrue(NAMES_A_LIBRARY.matcher(reason).find(), reason);
    }

    @Test
    void modelShardsRefusesCuda() throws Exception {
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(model);
             CommGroup group = new GroupCoordinator(CommOptions.inProcess()).form("refusal", 1)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ModelShards.create("cuda", 1, checkpoint, new ShardSpec(0, 1, checkpoint.config()),
                            group.communicator(0), KvGeometry.slots(1, 16), 1));
            assertTrue(e.getMessage().startsWith("backend cuda cannot run here: "), e.getMessage());
            assertTrue(NAMES_A_LIBRARY.matcher(e.getMessage()).find(), e.getMessage());
        }
    }

    @Test
    void replicaWithCudaBackendFailsToStartNamingTheLibrary() {
        ReplicaConfig config = ReplicaConfig.defaults(model.toString(), null, 1).withBackend("cuda:precision=bf16", 1)
                .withBatch(1, 4);
        Exception e = assertThrows(Exception.class, () -> new BlockingReplica(config, Duration.ofSeconds(30)).close());
        StringBuilder messages = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append(" / ");
        }
        assertTrue(NAMES_A_LIBRARY.matcher(messages).find(), messages.toString());
    }

    @Test
    void badCudaOptionsAreRejectedBeforeProbing() throws Exception {
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(model);
             CommGroup group = new GroupCoordinator(CommOptions.inProcess()).form("bad-options", 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ModelShards.create("cuda:precision=fp16", 1, checkpoint,
                            new ShardSpec(0, 1, checkpoint.config()), group.communicator(0), KvGeometry.slots(1, 16), 1));
            assertTrue(e.getMessage().contains("fp16"), e.getMessage());
        }
    }
}
