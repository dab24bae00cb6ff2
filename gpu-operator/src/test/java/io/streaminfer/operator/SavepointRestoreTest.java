package io.streaminfer.operator;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.RequestProgress;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Savepoints written by earlier releases restore into this one. Each fixture in
 * {@code src/test/resources/savepoints} was written by {@link SavepointFixtureWriter} with the code of the
 * format it holds (see the README there), and is never rewritten.
 *
 * <p><b>Every future change of a state format</b> (the {@link InferenceCodec} layout, the
 * {@link InFlightEntry} entry format, or the serializer snapshots) <b>must first add a fixture of the format
 * it replaces</b>, written by the code before the change, and a test here that restores it.
 */
@Timeout(30)
class SavepointRestoreTest {

    @Test
    void v1OperatorSavepointResumesEveryInFlightRequestAndCompletesEachExactlyOnce() throws Exception {
        assertResumesTheFixtureRequests(SavepointFixtures.readResource(SavepointFixtures.OPERATOR_V1));
    }

    @Test
    void v2OperatorSavepointResumesEveryInFlightRequestAndCompletesEachExactlyOnce() throws Exception {
        assertResumesTheFixtureRequests(SavepointFixtures.readResource(SavepointFixtures.OPERATOR_V2));
    }

    @Test
    void currentFormatOperatorSnapshotRoundTrips() throws Exception {
        AtomicReference<FakeReplica> fake = new AtomicReference<>();
        OperatorSubtaskState state;
        try (var harness = SavepointFixtures.operatorHarness(SavepointFixtures.RUNNING_SLOTS, fake)) {
            harness.open();
            state = SavepointFixtures.runScriptAndSnapshot(harness, fake.get());
        }
        assertResumesTheFixtureRequests(state);
    }

    @Test
    void v1TypedStateRestoresEveryElementAndIsRewrittenInTheCurrentFormat() throws Exception {
        assertTypedStateRestoresAndRewrites(SavepointFixtures.TYPES_V1);
    }

    @Test
    void v2TypedStateRestoresEveryElementAndIsRewrittenInTheCurrentFormat() throws Exception {
        assertTypedStateRestoresAndRewrites(SavepointFixtures.TYPES_V2);
    }

    private static void assertTypedStateRestoresAndRewrites(String fixture) throws Exception {
        OperatorSubtaskState rewritten;
        try (var harness = SavepointFixtures.typedStateHarness()) {
            harness.initializeState(SavepointFixtures.readResource(fixture));
            harness.open();
            assertHoldsTheFixtureElements((TypedStateOperator) harness.getOperator());
            rewritten = harness.snapshot(2L, 2L);
        }
        try (var harness = SavepointFixtures.typedStateHarness()) {
            harness.initializeState(rewritten);
            harness.open();
            assertHoldsTheFixtureElements((TypedStateOperator) harness.getOperator());
        }
    }

    @Test
    void currentFormatTypedStateRoundTrips() throws Exception {
        OperatorSubtaskState state;
        try (var harness = SavepointFixtures.typedStateHarness()) {
            harness.open();
            for (InferenceInput in : SavepointFixtures.inputs()) {
                harness.processElement(new StreamRecord<>(in));
            }
            state = harness.snapshot(1L, 1L);
        }
        try (var harness = SavepointFixtures.typedStateHarness()) {
            harness.initializeState(state);
            harness.open();
            assertHoldsTheFixtureElements((TypedStateOperator) harness.getOperator());
        }
    }

    /**
     * Restores {@code state} (the fixture script's snapshot) into a fresh operator and replica: the finished
     * request comes back from the state without running, every other one is resubmitted as it was admitted
     * (same request, key and metadata) from its stored progress (same tokens and random state), and every
     * request but the one emitted before the snapshot completes exactly once, as an uninterrupted run would.
     */
    static void assertResumesTheFixtureRequests(OperatorSubtaskState state) throws Exception {
        AtomicReference<FakeReplica> fake = new AtomicReference<>();
        try (var harness = SavepointFixtures.operatorHarness(Integer.MAX_VALUE, fake)) {
            harness.initializeState(state);
            harness.open();
            FakeReplica replica = fake.get();

            List<InferenceOutput> fromState = List.copyOf(harness.extractOutputValues());
            assertEquals(List.of(SavepointFixtures.DONE), fromState.stream().map(InferenceOutput::id).toList(),
                    "only the finished request is emitted straight from the state");

            List<String> resubmitted = List.of(SavepointFixtures.PART_WAY, SavepointFixtures.PART_WAY_LOGPROBS,
                    SavepointFixtures.SCORING, SavepointFixtures.WAITING, SavepointFixtures.FROM_START);
            Map<String, GenerationRequest> admitted;
            Map<String, RequestProgress> resumedFrom;
            synchronized (replica) {
                admitted = new LinkedHashMap<>(replica.admittedRequests);
                resumedFrom = new LinkedHashMap<>(replica.resumedFrom);
            }
            assertEquals(resubmitted, List.copyOf(admitted.keySet()), "resubmitted in admission order");
            for (String id : resubmitted) {
                assertEquals(SavepointFixtures.input(id).request(), admitted.get(id), "request " + id + " as admitted");
            }
            Map<String, RequestProgress> expectedProgress = new LinkedHashMap<>();
            for (String id : resubmitted) {
                if (!id.equals(SavepointFixtures.FROM_START)) {
                    expectedProgress.put(id, FakeReplica.progressAfter(SavepointFixtures.input(id).request(),
                            SavepointFixtures.stepsOf(id)));
                }
            }
            assertEquals(expectedProgress, resumedFrom, "generated tokens and random states resumed from");
            assertFalse(resumedFrom.containsKey(SavepointFixtures.FROM_START), "restarts from its prompt");

            replica.startDriving();
            harness.endInput();

            Map<String, InferenceOutput> byId = new LinkedHashMap<>();
            for (InferenceOutput out : harness.extractOutputValues()) {
                assertNull(byId.put(out.id(), out), "request " + out.id() + " was emitted twice");
            }
            List<String> expectedIds = SavepointFixtures.inputs().stream().map(InferenceInput::id)
                    .filter(id -> !id.equals(SavepointFixtures.EARLY)).sorted().toList();
            assertEquals(expectedIds, byId.keySet().stream().sorted().toList(),
                    "every request in the savepoint once; the one emitted before it not again");
            for (InferenceOutput out : byId.values()) {
                InferenceInput in = SavepointFixtures.input(out.id());
                assertEquals(in.key(), out.key(), "key of " + out.id());
                assertEquals(in.metadata(), out.metadata(), "metadata of " + out.id());
                assertEquals(SavepointFixtures.SUBTASK, out.replicaIndex());
                assertResultEquals(FakeReplica.resultOf(in.request()), out.result());
            }
        }
    }

    private static void assertHoldsTheFixtureElements(TypedStateOperator operator) throws Exception {
        List<InferenceInput> inputs = SavepointFixtures.inputs();
        assertEquals(inputs, operator.inputs());
        List<InferenceOutput> outputs = operator.outputs();
        assertEquals(inputs.size(), outputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            assertOutputEquals(TypedStateOperator.outputOf(inputs.get(i)), outputs.get(i));
        }
    }

    static void assertOutputEquals(InferenceOutput expected, InferenceOutput actual) {
        assertEquals(expected.key(), actual.key());
        assertEquals(expected.metadata(), actual.metadata());
        assertEquals(List.copyOf(expected.metadata().keySet()), List.copyOf(actual.metadata().keySet()),
                "metadata order");
        assertEquals(expected.replicaIndex(), actual.replicaIndex());
        assertEquals(expected.tensorParallelSize(), actual.tensorParallelSize());
        assertEquals(expected.modelName(), actual.modelName());
        assertResultEquals(expected.result(), actual.result());
    }

    static void assertResultEquals(GenerationResult expected, GenerationResult actual) {
        String id = expected.id();
        assertEquals(id, actual.id());
        assertEquals(expected.ok(), actual.ok(), id);
        assertEquals(expected.finishReason(), actual.finishReason(), id);
        assertEquals(expected.error(), actual.error(), id);
        assertEquals(expected.text(), actual.text(), id);
        assertArrayEquals(expected.promptTokenIds(), actual.promptTokenIds(), id);
        assertArrayEquals(expected.tokenIds(), actual.tokenIds(), id);
        assertArrayEquals(expected.logprobs(), actual.logprobs(), id);
        assertEquals(expected.score(), actual.score(), id);
        assertEquals(expected.queuedMs(), actual.queuedMs(), id);
        assertEquals(expected.firstTokenMs(), actual.firstTokenMs(), id);
        assertEquals(expected.totalMs(), actual.totalMs(), id);
    }
}
