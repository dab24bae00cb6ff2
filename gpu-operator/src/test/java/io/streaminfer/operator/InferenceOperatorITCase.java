package io.streaminfer.operator;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.InferenceReplica;
import io.streaminfer.engine.RequestProgress;
import io.streaminfer.engine.SamplingParams;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator in a real MiniCluster job: the mailbox executor comes from the task, state goes through a
 * real checkpoint, elements through the codec serializers. The replica is a deterministic stand-in (the
 * engine has its own tests); a second test fails it mid-run and checks exactly-once after the restart.
 */
@Timeout(120)
class InferenceOperatorITCase {

    private static final int PARALLELISM = 2;

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(PARALLELISM).build());

    // Shared with the replicas across the job's (deserialized) factory copies; one test at a time uses them.
    private static final AtomicBoolean FAIL_ONCE = new AtomicBoolean();
    private static final AtomicBoolean FAILED = new AtomicBoolean();
    private static final AtomicInteger RESUMED = new AtomicInteger();
    private static final AtomicInteger SUBTASKS_SNAPSHOTTED_TWICE = new AtomicInteger();

    @Test
    void everyRequestCompletesOnceAcrossReplicas() throws Exception {
        FAIL_ONCE.set(false);
        Map<String, InferenceOutput> byId = run(40, 20, 50, false);
        assertEquals(40, byId.size());
        assertEquals(2, byId.values().stream().map(InferenceOutput::replicaIndex).distinct().count(),
                "both replicas should have served requests");
    }

    @Test
    void replicaFailureRestartsFromTheCheckpointAndCompletesEachRequestExactlyOnce() throws Exception {
        FAIL_ONCE.set(true);
        FAILED.set(false);
        RESUMED.set(0);
        SUBTASKS_SNAPSHOTTED_TWICE.set(0);
        // The source stays open (a finished source ends the input, and endInput drains without
        // checkpoints); requests hold their last token until the replica failed after a checkpoint.
        Map<String, InferenceOutput> byId = run(16, 20, 20, true);
        assertTrue(FAILED.get(), "the replica never failed, so the restart was not exercised");
        assertEquals(16, byId.size());
        assertTrue(RESUMED.get() > 0, "no request resumed from checkpointed progress");
    }

    /**
     * Runs {@code requests} requests through the operator and collects one output per request. With
     * {@code keepSourceOpen} the source keeps running after them (emitting nothing more), as a Kafka
     * source does, and the job is cancelled once every output arrived.
     */
    private static Map<String, InferenceOutput> run(int requests, int minTokens, long checkpointMs,
                                                    boolean keepSourceOpen) throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(PARALLELISM);
        env.enableCheckpointing(checkpointMs);

        List<InferenceInput> inputs = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            inputs.add(input(i, minTokens));
        }
        ReplicaFactory factory = SteppingReplica::new;
        DataStream<InferenceInput> source;
        if (keepSourceOpen) {
            source = env.fromSource(new DataGeneratorSource<>(i -> i, Long.MAX_VALUE, RateLimiterStrategy.perSecond(200),
                            Types.LONG), WatermarkStrategy.noWatermarks(), "indices")
                    .filter(i -> i < requests)
                    .map(i -> input(i.intValue(), minTokens), InferenceTypes.input());
        } else {
            source = env.fromData(inputs, InferenceTypes.input());
        }
        Map<String, InferenceOutput> byId = new LinkedHashMap<>();
        try (CloseableIterator<InferenceOutput> it = source
                .keyBy(InferenceInput::id, Types.STRING)
                .transform("inference", InferenceTypes.output(), new InferenceOperatorFactory(factory))
                .executeAndCollect()) {
            while (byId.size() < requests && it.hasNext()) {
                InferenceOutput out = it.next();
                assertNull(byId.put(out.id(), out), "request " + out.id() + " was emitted twice");
            }
        }
        for (InferenceInput in : inputs) {
            InferenceOutput out = byId.get(in.id());
            assertEquals(in.key(), out.key());
            assertEquals(in.metadata(), out.metadata());
            assertArrayEquals(SteppingReplica.tokensOf(in.request()), out.result().tokenIds(), in.id());
        }
        return byId;
    }

    private static InferenceInput input(int i, int minTokens) {
        return new InferenceInput(request("q" + i, minTokens + i % 17), "key" + i, Map.of("n", Integer.toString(i)));
    }

    private static GenerationRequest request(String id, int maxTokens) {
        return new GenerationRequest(id, null, new int[] {1, 2}, null,
                new SamplingParams(1f, 1f, 0, maxTokens, id.hashCode(), List.of(), false));
    }

    /** Deterministic stand-in: one token per active request per step, stepped by its own thread. */
    private static final class SteppingReplica implements InferenceReplica {
        /** Small, to exercise backpressure; before the injected failure, room for all, so no barrier waits. */
        private static final int CAPACITY = 4;
        private static final int CAPACITY_BEFORE_FAILURE = 16;
        private final Listener listener;
        private final int subtask;
        private final Map<String, long[]> rngs = new HashMap<>();           // guarded by this
        private final Map<String, List<Integer>> tokens = new LinkedHashMap<>(); // guarded by this
        private final Map<String, GenerationRequest> requests = new HashMap<>(); // guarded by this
        private final Thread driver;
        private boolean closed; // guarded by this
        private final Map<String, Integer> progressAsks = new HashMap<>(); // guarded by this
        private boolean snapshottedTwice; // guarded by this
        /** Set by the snapshot that completes SUBTASKS_SNAPSHOTTED_TWICE; the driver then fails once. */
        private boolean failArmed; // guarded by this
        private final int capacity;

        SteppingReplica(int subtask, Listener listener) {
            this.subtask = subtask;
            this.listener = listener;
            this.capacity = FAIL_ONCE.get() ? CAPACITY_BEFORE_FAILURE : CAPACITY;
            driver = new Thread(this::drive, "it-replica-" + subtask);
            driver.setDaemon(true);
            driver.start();
        }

        static long next(long rng) {
            return rng * 6364136223846793005L + 1442695040888963407L;
        }

        static int[] tokensOf(GenerationRequest r) {
            int[] out = new int[r.params().maxTokens()];
            long rng = r.params().seed();
            for (int i = 0; i < out.length; i++) {
                rng = next(rng);
                out[i] = (int) ((rng >>> 33) % 512);
            }
            return out;
        }

        /**
         * Steps every request that can advance, as fast as it goes; when none can (none admitted, or all
         * holding their last token until the injected failure), waits on this replica's monitor until a
         * submit, a snapshot (which may arm the failure) or close wakes it. No sleep paces it, so no timing
         * of the machine decides what the tests see.
         */
        private void drive() {
            while (true) {
                List<GenerationResult> done = new ArrayList<>();
                boolean failNow;
                synchronized (this) {
                    try {
                        while (!closed && !failArmed && !canAdvance()) {
                            wait();
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (closed) {
                        return;
                    }
                    failNow = failArmed && FAIL_ONCE.compareAndSet(true, false);
                    failArmed = false;
                    if (!failNow) {
                        step(done);
                    }
                }
                if (failNow) {
                    FAILED.set(true);
                    listener.onFailure(new IOException("injected rank failure"));
                    return;
                }
                done.forEach(listener::onResult);
            }
        }

        /** Whether the request holds its last token until the injected failure, so snapshots see it running. */
        private boolean held(String id) {
            return FAIL_ONCE.get() && tokens.get(id).size() == requests.get(id).params().maxTokens() - 1;
        }

        private boolean canAdvance() {
            return tokens.keySet().stream().anyMatch(id -> !held(id));
        }

        /** One token for every request that is not held; finished ones into {@code done}. Holds the monitor. */
        private void step(List<GenerationResult> done) {
            var it = tokens.entrySet().iterator();
            while (it.hasNext()) {
                var e = it.next();
                if (held(e.getKey())) {
                    continue;
                }
                GenerationRequest r = requests.get(e.getKey());
                long[] rng = rngs.get(e.getKey());
                rng[0] = next(rng[0]);
                e.getValue().add((int) ((rng[0] >>> 33) % 512));
                if (e.getValue().size() >= r.params().maxTokens()) {
                    it.remove();
                    int[] ids = e.getValue().stream().mapToInt(Integer::intValue).toArray();
                    done.add(new GenerationResult(r.id(), true, GenerationResult.FinishReason.LENGTH, null,
                            "", r.promptTokenIds(), ids, null, null, 0, 1, 2));
                }
            }
        }

        @Override
        public synchronized boolean trySubmit(GenerationRequest request, RequestProgress resumeFrom) {
            if (tokens.size() >= capacity) {
                return false;
            }
            List<Integer> generated = new ArrayList<>();
            long rng = request.params().seed();
            if (resumeFrom != null) {
                for (int t : resumeFrom.generatedTokens()) {
                    generated.add(t);
                }
                rng = resumeFrom.rngState();
                RESUMED.incrementAndGet();
            }
            tokens.put(request.id(), generated);
            rngs.put(request.id(), new long[] {rng});
            requests.put(request.id(), request);
            notifyAll();
            return true;
        }

        @Override
        public synchronized RequestProgress progress(String id) {
            // Each snapshot asks once per running request, so a second ask for one id is a second snapshot.
            // The replica whose snapshot makes it both subtasks fails: with one checkpoint at a time, the
            // first checkpoint holding those requests has then completed.
            if (progressAsks.merge(id, 1, Integer::sum) == 2 && !snapshottedTwice) {
                snapshottedTwice = true;
                if (SUBTASKS_SNAPSHOTTED_TWICE.incrementAndGet() == PARALLELISM && FAIL_ONCE.get()) {
                    failArmed = true;
                    notifyAll();
                }
            }
            List<Integer> t = tokens.get(id);
            return t == null ? null
                    : new RequestProgress(t.stream().mapToInt(Integer::intValue).toArray(), rngs.get(id)[0]);
        }

        @Override
        public synchronized int running() {
            return tokens.size();
        }

        @Override
        public int waiting() {
            return 0;
        }

        @Override
        public synchronized double batchOccupancy() {
            return running() / 8.0;
        }

        @Override
        public synchronized double kvCacheUsage() {
            return tokens.size() / (double) capacity;
        }

        @Override
        public String modelName() {
            return "stepping-fake";
        }

        @Override
        public int tensorParallelSize() {
            return 1;
        }

        @Override
        public void close() {
            synchronized (this) {
                closed = true;
                notifyAll();
            }
            driver.interrupt();
        }
    }
}
