package io.streaminfer.operator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.InferenceReplica;
import io.streaminfer.engine.LocalReplica;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.engine.SamplingParams;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.SyntheticCheckpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator around the real engine (a TP=2 replica): a snapshot taken mid-generation and restored into
 * a fresh operator and replica completes every request exactly once, with the tokens of an uninterrupted
 * run.
 */
class InferenceOperatorRealEngineTest {
    @TempDir
    static Path dir;
    static ReplicaFactory factory;

    @BeforeAll
    static void model() throws Exception {
        Path model = dir.resolve("gqa.bin");
        SyntheticCheckpoint.write(model, ModelConfig.llama2c(64, 128, 2, 8, 2, 512, 96, true), 21);
        ReplicaConfig config = ReplicaConfig.defaults(model.toString(), null, 2).withBatch(4, 32)
                .withCollectiveTimeout(Duration.ofSeconds(20));
        factory = (subtask, listener) -> LocalReplica.start(config, subtask, listener);
    }

    private static List<GenerationRequest> requests() {
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            SamplingParams params = new SamplingParams(i % 2 == 0 ? 0f : 0.9f, 1f, 0, 40 + 8 * i, 100 + i,
                    List.of(), false);
            out.add(new GenerationRequest("r" + i, null, new int[] {1, 10 + i, 20 + i, 30}, null, params));
        }
        return out;
    }

    private static OneInputStreamOperatorTestHarness<InferenceInput, InferenceOutput> open(OperatorSubtaskState state)
            throws Exception {
        return open(factory, state);
    }

    private static OneInputStreamOperatorTestHarness<InferenceInput, InferenceOutput> open(ReplicaFactory replicas,
            OperatorSubtaskState state) throws Exception {
        var harness = new OneInputStreamOperatorTestHarness<>(new InferenceOperatorFactory(replicas), 128, 1, 0);
        harness.setup(InferenceTypes.OutputSerializer.INSTANCE);
        if (state != null) {
            harness.initializeState(state);
        }
        harness.open();
        return harness;
    }

    /** The replicas of {@link #factory}, counting down {@code reported} after passing each result to the operator. */
    private static ReplicaFactory countingResults(CountDownLatch reported) {
        return (subtask, listener) -> factory.create(subtask, new InferenceReplica.Listener() {
            @Override
            public void onResult(GenerationResult result) {
                listener.onResult(result); // the operator has queued the result's mail when this returns
                reported.countDown();
            }

            @Override
            public void onFailure(Throwable cause) {
                listener.onFailure(cause);
            }
        });
    }

    private static void collect(List<InferenceOutput> outputs, Map<String, int[]> tokens) {
        for (InferenceOutput out : outputs) {
            assertTrue(out.result().ok(), out.result().error());
            assertNull(tokens.put(out.id(), out.result().tokenIds()), out.id() + " emitted twice");
        }
    }

    @Test
    void snapshotMidGenerationAndRestoreLosesAndRepeatsNothing() throws Exception {
        Map<String, int[]> uninterrupted = new HashMap<>();
        try (var harness = open(null)) {
            for (GenerationRequest r : requests()) {
                harness.processElement(new StreamRecord<>(InferenceInput.of(r)));
            }
            harness.endInput();
            collect(harness.extractOutputValues(), uninterrupted);
        }
        assertEquals(6, uninterrupted.size());

        Map<String, int[]> interrupted = new HashMap<>();
        OperatorSubtaskState snapshot;
        CountDownLatch twoReported = new CountDownLatch(2);
        try (var first = open(countingResults(twoReported), null)) {
            for (GenerationRequest r : requests()) {
                first.processElement(new StreamRecord<>(InferenceInput.of(r)));
            }
            // Wait until the replica reported two results (the shortest requests), then emit exactly those two
            // by running their mails one at a time; the replica may finish more meanwhile, but their mails stay
            // queued, so the snapshot holds them (as results or as progress) however fast or slow this machine.
            assertTrue(twoReported.await(2, TimeUnit.MINUTES), "the replica did not report 2 results in 2 minutes");
            while (first.extractOutputValues().size() < 2) {
                first.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY)
                        .orElseThrow(() -> new AssertionError("2 results reported but their mails are not queued"))
                        .run();
            }
            snapshot = first.snapshot(1L, 1L);
            collect(first.extractOutputValues(), interrupted);
        }
        assertEquals(2, interrupted.size(), "the snapshot must hold the other requests in flight");
        try (var second = open(snapshot)) {
            second.endInput();
            collect(second.extractOutputValues(), interrupted);
        }
        assertEquals(uninterrupted.keySet(), interrupted.keySet());
        uninterrupted.forEach((id, tokens) -> assertArrayEquals(tokens, interrupted.get(id), "tokens of " + id));
    }
}
