package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.compute.Backends;
import io.streaminfer.compute.CpuBackend;
import io.streaminfer.compute.StepBatch;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Llama2cCheckpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.StageSpec;
import io.streaminfer.model.SyntheticCheckpoint;
import io.streaminfer.model.TransformerShard;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pipeline rank that throws fails its replica promptly, with the cause, and leaves no thread behind. */
class PipelineGroupFailureTest {

    @TempDir
    Path dir;

    private static long liveThreads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }

    private static StepBatch decode(int position) {
        return new StepBatch(new int[] {0}, new int[] {position % 32}, new int[] {1}, new boolean[] {true});
    }

    @Test
    void aFailingStageFailsThePipelineWithItsCauseWithinTheTimeoutAndNoThreadSurvives() throws Exception {
        Path model = dir.resolve("m.bin");
        ModelConfig config = ModelConfig.llama2c(32, 64, 3, 4, 4, 256, 32, true);
        SyntheticCheckpoint.write(model, config, 3);
        List<StageSpec> stages = StageSpec.split(config, 3);
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(model)) {
            CompletableFuture<Throwable> reported = new CompletableFuture<>();
            CompletableFuture<Throwable> driverSaw = new CompletableFuture<>();
            long start = System.nanoTime();
            PipelineGroup pipeline = PipelineGroup.start("fail", new GroupCoordinator(
                            CommOptions.inProcess().withTimeout(Duration.ofSeconds(30))), stages, 2, 3,
                    (stage, rank, communicator, in, out) -> {
                        TransformerShard shard = new TransformerShard(checkpoint, new ShardSpec(rank, 2, config),
                                communicator, new CpuBackend(Backends.kernel("vector", 1)), 2, 32, 8, stage, in, out);
                        if (stage.stage() != 1 || rank != 1) {
                            return shard;
                        }
                        return new FailingShard(shard, 5);
                    },
                    p -> {
                        float[][] logits = new float[3][256];
                        try {
                            for (int step = 0; step < 100; step++) {
                                p.submit(decode(step), logits[step % 3]);
                                if (p.inFlight() == p.depth()) {
                                    p.awaitOldest();
                                }
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
            assertTrue(cause.getMessage().contains("rank 1") && cause.getMessage().contains("tp:fail-pp1"),
                    cause.getMessage());
            assertEquals("injected fault in stage 1", cause.getCause().getMessage());
            assertTrue(driverSaw.get(10, TimeUnit.SECONDS) != null, "the driver must fail, not hang");
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "not the 30 s timeout");
            pipeline.close();
            assertEquals(0, liveThreads("tp:fail-pp"), "rank threads left behind");
            assertEquals(0, liveThreads("pp:fail-driver"), "driver thread left behind");
        }
    }

    @Test
    void aStageThatCannotLoadFailsStartWithTheCause() throws Exception {
        Path model = dir.resolve("m2.bin");
        ModelConfig config = ModelConfig.llama2c(32, 64, 2, 4, 4, 256, 32, true);
        SyntheticCheckpoint.write(model, config, 4);
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(model)) {
            GroupCoordinator coordinator = new GroupCoordinator(CommOptions.inProcess());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> PipelineGroup.start("load",
                    coordinator, StageSpec.split(config, 2), 1, 2,
                    (stage, rank, communicator, in, out) -> {
                        if (stage.last()) {
                            throw new java.io.IOException("disk on fire");
                        }
                        return new TransformerShard(checkpoint, new ShardSpec(rank, 1, config), communicator,
                                new CpuBackend(Backends.kernel("vector", 1)), 1, 32, 4, stage, in, out);
                    },
                    p -> { }, t -> { }, Duration.ofSeconds(30)));
            assertTrue(e.getMessage().contains("disk on fire"), e.getMessage());
            assertEquals(0, liveThreads("tp:load-pp"), "rank threads left behind");
            assertTrue(coordinator.liveGroupNames().isEmpty(), "groups and links closed: " + coordinator.liveGroupNames());
        }
    }

    /** Delegates to a real shard and throws on its n-th step (a fake of one seam, in one test). */
    private static final class FailingShard implements io.streaminfer.model.ModelShard {
        private final io.streaminfer.model.ModelShard inner;
        private int countdown;

        FailingShard(io.streaminfer.model.ModelShard inner, int failAt) {
            this.inner = inner;
            this.countdown = failAt;
        }

        @Override
        public void forward(StepBatch batch, float[] logits) {
            if (--countdown == 0) {
                throw new IllegalStateException("injected fault in stage 1");
            }
            inner.forward(batch, logits);
        }

        @Override
        public long weightBytes() {
            return inner.weightBytes();
        }

        @Override
        public long kvCacheBytes() {
            return inner.kvCacheBytes();
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
