package io.streaminfer.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.DeviceStageLink;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.comm.StageLink;
import io.streaminfer.compute.Backends;
import io.streaminfer.compute.StepBatch;
import io.streaminfer.engine.BlockingReplica;
import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.PipelineGroup;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.engine.SamplingParams;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Llama2cCheckpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.StageSpec;
import io.streaminfer.model.SyntheticCheckpoint;
import io.streaminfer.model.TransformerShard;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pipeline parallelism on the CUDA backend: PP=2 gives bitwise the greedy tokens and logits of PP=1 on the
 * same backend, through the host path of an in-process link (one device) and through the device side of
 * an NCCL link (stage s on device s: two devices). Steps keep the same rows at both degrees (the CUDA
 * backend is not batch-invariant), with two sequences in flight so both stages compute at once. Skips,
 * naming what is missing, without CUDA or, for the NCCL cases, a second device.
 */
class CudaPipelineGpuTest {
    private static final int[][] PROMPTS = {{1, 17, 99, 250, 3, 480}, {1, 5, 6, 7}};
    private static final int TOKENS = 40;

    @TempDir
    Path dir;

    @BeforeEach
    void requireCuda() {
        GpuTestSupport.requireCuda();
    }

    private static void requireTwoDevices() {
        Assumptions.assumeTrue(CudaSupport.deviceCount() >= 2,
                "skipped: the NCCL stage link needs 2 CUDA devices, " + CudaSupport.deviceCount() + " present");
    }

    private Path model() throws Exception {
        Path file = dir.resolve("gqa-pp.bin");
        // 3 layers split 2 + 1, GQA (8 heads over 2 KV heads), separate classifier
        SyntheticCheckpoint.write(file, ModelConfig.llama2c(128, 256, 3, 8, 2, 512, 128, false), 31);
        return file;
    }

    /** What a greedy run gives: every sequence's tokens, and the logits of every step in the order taken. */
    private record Run(int[][] tokens, List<float[]> logits) {}

    /** Submits steps and takes back the oldest: a shard run step by step, or a pipeline. */
    private interface Steps {
        void submit(StepBatch batch, float[] logits);

        void awaitOldest();
    }

    /**
     * Prefills every prompt (sequence s in slot s) as one step each, then decodes each sequence one row per
     * step, its next step submitted once its token is known: up to PROMPTS.length steps in flight.
     */
    private static Run greedy(Steps steps, int vocab) {
        int n = PROMPTS.length;
        float[][] logits = new float[n][vocab];
        int[][] tokens = new int[n][TOKENS];
        int[] produced = new int[n];
        List<float[]> taken = new ArrayList<>();
        ArrayDeque<Integer> inFlight = new ArrayDeque<>();
        for (int s = 0; s < n; s++) {
            int len = PROMPTS[s].length;
            int[] slots = new int[len];
            int[] positions = new int[len];
            boolean[] want = new boolean[len];
            java.util.Arrays.fill(slots, s);
            for (int i = 0; i < len; i++) {
                positions[i] = i;
            }
            want[len - 1] = true;
            steps.submit(new StepBatch(slots, positions, PROMPTS[s].clone(), want), logits[s]);
            inFlight.add(s);
        }
        while (!inFlight.isEmpty()) {
            steps.awaitOldest();
            int s = inFlight.poll();
            taken.add(logits[s].clone());
            int next = GpuTestSupport.argmax(logits[s]);
            tokens[s][produced[s]++] = next;
            if (produced[s] < TOKENS) {
                int position = PROMPTS[s].length + produced[s] - 1;
                steps.submit(new StepBatch(new int[] {s}, new int[] {position}, new int[] {next},
                        new boolean[] {true}), logits[s]);
                inFlight.add(s);
            }
        }
        return new Run(tokens, taken);
    }

    private static Run onePipelineStage(Checkpoint checkpoint) {
        try (GpuTestSupport.Rank rank = GpuTestSupport.Rank.open("cuda", checkpoint, PROMPTS.length,
                checkpoint.config().contextLength(), 16)) {
            return greedy(new Steps() {
                @Override
                public void submit(StepBatch batch, float[] logits) {
                    rank.shard().forward(batch, logits);
                }

                @Override
                public void awaitOldest() {
                }
            }, checkpoint.config().vocabularySize());
        }
    }

    /** Counts which side of a link the stages used (a delegate around the real link, for this test only). */
    private static final class CountingLink implements StageLink {
        private final StageLink link;
        private final AtomicInteger hostTransfers;
        private final AtomicInteger deviceLookups;

        CountingLink(StageLink link, AtomicInteger hostTransfers, AtomicInteger deviceLookups) {
            this.link = link;
            this.hostTransfers = hostTransfers;
            this.deviceLookups = deviceLookups;
        }

        @Override
        public String name() {
            return link.name();
        }

        @Override
        public int capacity() {
            return link.capacity();
        }

        @Override
        public void send(float[] buf, int offset, int length) {
            hostTransfers.incrementAndGet();
            link.send(buf, offset, length);
        }

        @Override
        public void recv(float[] buf, int offset, int length) {
            hostTransfers.incrementAndGet();
            link.recv(buf, offset, length);
        }

        @Override
        public Optional<DeviceStageLink> deviceLink() {
            Optional<DeviceStageLink> device = link.deviceLink();
            device.ifPresent(d -> deviceLookups.incrementAndGet());
            return device;
        }

        @Override
        public long sendWaitNanos() {
            return link.sendWaitNanos();
        }

        @Override
        public long recvWaitNanos() {
            return link.recvWaitNanos();
        }

        @Override
        public void fail(Throwable cause) {
            link.fail(cause);
        }

        @Override
        public void close() {
            link.close();
        }
    }

    /**
     * PP=2 at TP=1 on a pipeline of the given comm options, stage s on CUDA device {@code deviceOfStage1 * s};
     * {@code hostTransfers} and {@code deviceLookups} count how the stages used their links.
     */
    private static Run twoPipelineStages(Checkpoint checkpoint, CommOptions comm, int deviceOfStage1,
                                         AtomicInteger hostTransfers, AtomicInteger deviceLookups) throws Exception {
        ModelConfig config = checkpoint.config();
        List<StageSpec> stages = StageSpec.split(config, 2);
        CompletableFuture<Run> result = new CompletableFuture<>();
        PipelineGroup pipeline = PipelineGroup.start("cuda-pp", new GroupCoordinator(comm), stages, 1, 2,
                (stage, rank, communicator, in, out) -> new TransformerShard(checkpoint, new ShardSpec(rank, 1, config),
                        communicator, Backends.create("cuda:device-base=" + deviceOfStage1 * stage.stage(), 1,
                        communicator), PROMPTS.length, config.contextLength(), 16, stage,
                        in == null ? null : new CountingLink(in, hostTransfers, deviceLookups),
                        out == null ? null : new CountingLink(out, hostTransfers, deviceLookups)),
                p -> result.complete(greedy(new Steps() {
                    @Override
                    public void submit(StepBatch batch, float[] logits) {
                        p.submit(batch, logits);
                    }

                    @Override
                    public void awaitOldest() {
                        p.awaitOldest();
                    }
                }, config.vocabularySize())),
                result::completeExceptionally, Duration.ofMinutes(2));
        try {
            return result.get(2, TimeUnit.MINUTES);
        } finally {
            pipeline.close();
        }
    }

    private static void assertSameRun(Run expected, Run actual, String what) {
        for (int s = 0; s < PROMPTS.length; s++) {
            int at = GpuTestSupport.firstDifference(expected.tokens()[s], actual.tokens()[s]);
            int sequence = s;
            assertEquals(-1, at, () -> what + ": sequence " + sequence + " leaves PP=1's greedy tokens at " + at);
        }
        assertEquals(expected.logits().size(), actual.logits().size());
        for (int i = 0; i < expected.logits().size(); i++) {
            assertArrayEquals(expected.logits().get(i), actual.logits().get(i), 0f, what + ": logits of step " + i);
        }
    }

    @Test
    void pp2OnOneDeviceThroughTheHostPathEqualsPp1Bitwise() throws Exception {
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(model())) {
            Run one = onePipelineStage(checkpoint);
            AtomicInteger host = new AtomicInteger();
            AtomicInteger device = new AtomicInteger();
            Run two = twoPipelineStages(checkpoint, CommOptions.inProcess().withTimeout(Duration.ofSeconds(30)), 0,
                    host, device);
            assertSameRun(one, two, "PP=2 on one device, in-process link");
            assertEquals(0, device.get(), "an in-process link has no device side");
            assertTrue(host.get() >= 2 * PROMPTS.length * TOKENS, "rows went through the host: " + host.get());
        }
    }

    @Test
    void pp2AcrossTwoDevicesThroughTheDeviceLinkEqualsPp1Bitwise() throws Exception {
        requireTwoDevices();
        try (Checkpoint checkpoint = Llama2cCheckpoint.open(model())) {
            Run one = onePipelineStage(checkpoint);
            AtomicInteger host = new AtomicInteger();
            AtomicInteger device = new AtomicInteger();
            Run two = twoPipelineStages(checkpoint, CommOptions.inProcess()
                    .withBackend(io.streaminfer.comm.CommBackend.NCCL).withTimeout(Duration.ofSeconds(30)), 1,
                    host, device);
            assertSameRun(one, two, "PP=2 on devices 0 and 1, NCCL device link");
            assertEquals(0, host.get(), "no rows went through the host");
            assertTrue(device.get() >= 2 * PROMPTS.length * TOKENS, "rows went device to device: " + device.get());
        }
    }

    @Test
    void pp2ReplicaOnCudaGivesTheGreedyTokensOfPp1() throws Exception {
        requireTwoDevices();
        Path model = model();
        ReplicaConfig base = ReplicaConfig.defaults(model.toString(), null, 1).withBatch(4, 32)
                .withCollectiveTimeout(Duration.ofSeconds(30)).withBackend("cuda", 1);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            requests.add(new GenerationRequest("r" + i, null, new int[] {1, 3 + i, 40 + 2 * i, 77}, null,
                    SamplingParams.greedy(24)));
        }
        // one request at a time: every step then holds the same rows at both degrees
        List<GenerationResult> one = runEach(base.withPipeline(1, true), requests);
        List<GenerationResult> two = runEach(base.withPipeline(2, true), requests);
        for (int i = 0; i < requests.size(); i++) {
            GenerationResult e = one.get(i);
            GenerationResult a = two.get(i);
            assertTrue(e.ok() && a.ok(), e.error() + " / " + a.error());
            assertTrue(e.tokenIds().length > 0, "generated nothing");
            assertArrayEquals(e.tokenIds(), a.tokenIds(), "greedy tokens of " + e.id() + " at PP=2 on CUDA");
        }
    }

    private static List<GenerationResult> runEach(ReplicaConfig config, List<GenerationRequest> requests)
            throws Exception {
        List<GenerationResult> out = new ArrayList<>();
        try (BlockingReplica replica = new BlockingReplica(config, Duration.ofMinutes(2))) {
            for (GenerationRequest request : requests) {
                out.add(replica.runOne(request));
            }
        }
        return out;
    }
}
