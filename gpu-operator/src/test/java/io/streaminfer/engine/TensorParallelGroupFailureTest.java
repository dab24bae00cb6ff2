package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.comm.CommGroup;
import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.compute.Backends;
import io.streaminfer.compute.CpuBackend;
import io.streaminfer.compute.MatmulKernel;
import io.streaminfer.compute.PackedMatrix;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Llama2cCheckpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.compute.StepBatch;
import io.streaminfer.model.SyntheticCheckpoint;
import io.streaminfer.model.TransformerShard;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A rank that throws fails its replica promptly, with the cause, and leaves no thread behind. */
class TensorParallelGroupFailureTest {

    @TempDir
    Path dir;

    /** Delegates to the vector backend and throws on the n-th product (a fake of one seam, in one test). */
    private static final class FailingBackend implements MatmulKernel {
        private final MatmulKernel inner = Backends.kernel("vector", 1);
        private final AtomicInteger countdown;

        FailingBackend(int failAt) {
            this.countdown = new AtomicInteger(failAt);
        }

        @Override
        public String name() {
            return "failing";
        }

        @Override
        public boolean batchInvariant() {
            return true;
        }

        @Override
        public PackedMatrix pack(FloatBuffer src, int n, int k, int rowStride, int segments) {
            return inner.pack(src, n, k, rowStride, segments);
        }

        @Override
        public void matmul(float[] x, int m, PackedMatrix w, float[] out) {
            if (countdown.decrementAndGet() == 0) {
                throw new IllegalStateException("injected fault in a matrix product");
            }
            inner.matmul(x, m, w, out);
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    private static long liveThreads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }

    @Test
    void aFailingRankFailsTheGroupWithItsCauseAndNoThreadSurvives() throws Exception {
        Path model = dir.resolve("m.bin");
        SyntheticCheckpoint.write(model, ModelConfig.llama2c(32, 64, 2, 4, 4, 256, 32, true), 3);
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(model)) {
            CommGroup comms = new GroupCoordinator(CommOptions.inProcess().withTimeout(Duration.ofSeconds(5)))
                    .form("failure-test", 2);
            CompletableFuture<Throwable> reported = new CompletableFuture<>();
            CompletableFuture<Throwable> driverSaw = new CompletableFuture<>();
            TensorParallelGroup group = TensorParallelGroup.start(comms,
                    (rank, communicator) -> new TransformerShard(checkpoint, new ShardSpec(rank, 2, checkpoint.config()),
                            communicator, new CpuBackend(rank == 1 ? new FailingBackend(7) : Backends.kernel("vector", 1)), 2, 32, 8),
                    g -> {
                        StepBatch batch = new StepBatch(new int[] {0}, new int[] {0}, new int[] {1}, new boolean[] {true});
                        float[] logits = new float[256];
                        try {
                            for (int step = 0; step < 100; step++) {
                                g.step(new StepBatch(new int[] {0}, new int[] {step % 32}, new int[] {1},
                                        new boolean[] {true}), logits);
                            }
                            driverSaw.complete(null);
                        } catch (RuntimeException e) {
                            driverSaw.complete(e);
                            throw e;
                        }
                    },
                    reported::complete, Duration.ofSeconds(30));
            Throwable cause = reported.get(10, TimeUnit.SECONDS);
            assertTrue(cause instanceof TensorParallelGroup.RankFailure, "reported: " + cause);
            assertTrue(cause.getMessage().contains("rank 1") && cause.getMessage().contains("tp:failure-test"),
                    cause.getMessage());
            assertEquals("injected fault in a matrix product", cause.getCause().getMessage());
            assertTrue(driverSaw.get(10, TimeUnit.SECONDS) != null, "the driver's step must fail, not hang");
            group.close();
            assertEquals(0, liveThreads("tp:failure-test"), "rank threads left behind");
            assertThrows(IllegalStateException.class, () -> group.step(
                    new StepBatch(new int[0], new int[0], new int[0], new boolean[0]), new float[0]));
        }
    }

    @Test
    void aRankThatCannotLoadFailsStartWithTheCause() throws Exception {
        Path model = dir.resolve("m2.bin");
        SyntheticCheckpoint.write(model, ModelConfig.llama2c(32, 64, 1, 4, 4, 256, 32, true), 4);
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(model)) {
            CommGroup comms = new GroupCoordinator(CommOptions.inProcess()).form("load-test", 2);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> TensorParallelGroup.start(comms,
                    (rank, communicator) -> {
                        if (rank == 1) {
                            throw new java.io.IOException("disk on fire");
                        }
                        return new TransformerShard(checkpoint, new ShardSpec(rank, 2, checkpoint.config()),
                                communicator, new CpuBackend(Backends.kernel("vector", 1)), 1, 32, 4);
                    },
                    g -> { }, t -> { }, Duration.ofSeconds(30)));
            assertTrue(e.getMessage().contains("disk on fire"), e.getMessage());
            assertEquals(0, liveThreads("tp:load-test"), "rank threads left behind");
        }
    }

    @Test
    void aTpDegreeTheModelCannotSplitIsRefusedNamingTheDimension() {
        ModelConfig config = ModelConfig.llama2c(64, 172, 5, 8, 4, 512, 512, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShardSpec.check(config, 8));
        assertTrue(e.getMessage().contains("n_kv_heads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ShardSpec.check(config, 3));
        assertTrue(e.getMessage().contains("n_heads"), e.getMessage());
    }
}
