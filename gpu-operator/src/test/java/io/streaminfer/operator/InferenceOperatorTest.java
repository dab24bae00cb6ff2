package io.streaminfer.operator;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.SamplingParams;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A hang (a yield nobody wakes) must fail the test, not the build: hence the timeout. */
@Timeout(30)
class InferenceOperatorTest {

    private static final int MAX_PARALLELISM = 128;
    private static final int PARALLELISM = 2;
    private static final int SUBTASK = 1;

    private final List<OneInputStreamOperatorTestHarness<InferenceInput, InferenceOutput>> harnesses = new ArrayList<>();

    @AfterEach
    void closeHarnesses() throws Exception {
        for (var h : harnesses) {
            h.close();
        }
    }

    @Test
    void everyRequestGetsOneResultCarryingItsPassthroughFields() throws Exception {
        AtomicReference<FakeReplica> fake = new AtomicReference<>();
        var harness = openHarness(capacity -> 4, fake, null);
        fake.get().startDriving();

        for (int i = 0; i < 8; i++) {
            harness.processElement(new StreamRecord<>(new InferenceInput(request("r" + i, 3 + i % 4), "key" + i,
                    Map.of("source", "test-" + i))));
        }
        harness.endInput();

        Map<String, InferenceOutput> byId = uniqueById(harness.extractOutputValues());
        assertEquals(8, byId.size());
        for (int i = 0; i < 8; i++) {
            InferenceOutput out = byId.get("r" + i);
            assertNotNull(out, "missing result of r" + i);
            assertTrue(out.result().ok());
            assertEquals(3 + i % 4, out.result().tokenIds().length);
            assertEquals("key" + i, out.key());
            assertEquals(Map.of("source", "test-" + i), out.metadata());
            assertEquals(SUBTASK, out.replicaIndex());
            assertEquals(FakeReplica.TP_SIZE, out.tensorParallelSize());
            assertEquals(FakeReplica.MODEL, out.modelName());
        }
        assertEquals(8, operator(harness).metrics().completedCount());
        assertEquals(0, operator(harness).inFlightCount());
    }

    @Test
    void fullReplicaMakesProcessElementYieldUntilCapacityFreesAndNothingIsDropped() throws Exception {
        AtomicReference<FakeReplica> fake = new AtomicReference<>();
        var harness = openHarness(capacity -> 2, fake, null);
        // the replica decodes nothing until a submit has been refused, so the operator must meet a full
        // replica (whatever the thread timing) and then wait for capacity
        fake.get().holdStepsUntilRefused = true;
        fake.get().startDriving();

        for (int i = 0; i < 10; i++) {
            harness.processElement(new StreamRecord<>(InferenceInput.of(request("b" + i, 5))));
        }
        // processElement only returned after the replica took each request
        assertEquals(10, fake.get().admitted.size());
        assertTrue(fake.get().rejectedSubmits.get() > 0, "the replica was never full, so backpressure was not exercised");
        assertTrue(fake.get().maxActive.get() <= 2, "replica held more than its capacity");

        harness.endInput();
        Map<String, InferenceOutput> byId = uniqueById(harness.extractOutputValues());
        assertEquals(10, byId.size());
        for (int i = 0; i < 10; i++) {
            assertEquals(5, byId.get("b" + i).result().tokenIds().length);
        }
    }

    @Test
    void endInputDrainsEverythingInFlight() throws Exception {
        AtomicReference<FakeReplica> fake = new AtomicReference<>();
        var harness = openHarness(capacity -> 16, fake, null);

        for (int i = 0; i < 5; i++) {
            harness.processElement(new StreamRecord<>(InferenceInput.of(request("d" + i, 4))));
        }
        // nothing steps the replica yet: all five are in flight, none emitted
        assertEquals(5, operator(harness).inFlightCount());
        assertTrue(harness.extractOutputValues().isEmpty());

        fake.get().startDriving();
        harness.endInput();
        assertEquals(5, uniqueById(harness.extractOutputValues()).size());
        assertEquals(0, operator(harness).inFlightCount());
    }

    @Test
    void restoreFromSnapshotCompletesEveryRequestExactlyOnceWithUninterruptedTokens() throws Exception {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            requests.add(request("s" + i, 3 + i)); // 3..8 tokens
        }

        // Reference: one uninterrupted run.
        AtomicReference<FakeReplica> refFake = new AtomicReference<>();
        var reference = openHarness(capacity -> 8, refFake, null);
        refFake.get().startDriving();
        for (GenerationRequest r : requests) {
            reference.processElement(new StreamRecord<>(InferenceInput.of(r)));
        }
        reference.endInput();
        Map<String, InferenceOutput> expected = uniqueById(reference.extractOutputValues());
        assertEquals(6, expected.size());

        // Interrupted run: the test drives the replica step by step.
        AtomicReference<FakeReplica> fake = new AtomicReference<>();
        var first = openHarness(capacity -> 8, fake, null);
        for (GenerationRequest r : requests) {
            first.processElement(new StreamRecord<>(InferenceInput.of(r)));
        }
        for (int step = 0; step < 3; step++) {
            fake.get().step();
        }
        runPendingMails(first); // s0 (3 tokens) is emitted before the checkpoint
        fake.get().step();      // s1 (4 tokens) finishes, but its result mail has not run yet
        assertEquals(5, operator(first).inFlightCount());
        OperatorSubtaskState snapshot = first.snapshot(1L, 1L);
        List<InferenceOutput> beforeCheckpoint = new ArrayList<>(first.extractOutputValues());
        assertEquals(List.of("s0"), beforeCheckpoint.stream().map(InferenceOutput::id).toList());

        // The task fails after the checkpoint; a fresh operator and replica restore it.
        first.close();
        harnesses.remove(first);
        AtomicReference<FakeReplica> restoredFake = new AtomicReference<>();
        var second = openHarness(capacity -> 8, restoredFake, snapshot);

        // s1's finished result came back from the state without running again; s2..s5 resumed at 4 tokens.
        assertEquals(List.of("s1"), second.extractOutputValues().stream().map(InferenceOutput::id).toList());
        Map<String, Integer> resumedAt = restoredFake.get().resumedAt;
        assertEquals(Map.of("s2", 4, "s3", 4, "s4", 4, "s5", 4), resumedAt);

        restoredFake.get().startDriving();
        second.endInput();

        List<InferenceOutput> all = new ArrayList<>(beforeCheckpoint);
        all.addAll(second.extractOutputValues());
        Map<String, InferenceOutput> byId = uniqueById(all); // fails on a duplicate
        assertEquals(expected.keySet(), byId.keySet());
        for (String id : expected.keySet()) {
            assertArrayEquals(expected.get(id).result().tokenIds(), byId.get(id).result().tokenIds(),
                    "tokens of " + id + " differ from the uninterrupted run");
        }
    }

    @Test
    void replicaFailureFailsTheTaskWithTheCause() throws Exception {
        AtomicReference<FakeReplica> fake = new AtomicReference<>();
        var harness = openHolding(capacity -> 4, fake, request("f0", 4));

        IOException cause = new IOException("rank 1 lost its device");
        fake.get().fail(cause);
        ReplicaFailedException thrown = assertThrows(ReplicaFailedException.class, () -> runPendingMails(harness));
        assertSame(cause, thrown.getCause());
    }

    @Test
    void replicaFailureWhileBackpressuredEndsTheYieldWithTheCause() throws Exception {
        AtomicReference<FakeReplica> fake = new AtomicReference<>();
        var harness = openHolding(capacity -> 1, fake, request("x0", 4));

        IOException cause = new IOException("allReduce timed out");
        Thread failer = new Thread(() -> {
            // Fails only once processElement below is stuck on the full replica.
            while (fake.get().rejectedSubmits.get() == 0) {
                Thread.onSpinWait();
            }
            fake.get().fail(cause);
        }, "test-failer");
        failer.setDaemon(true);
        failer.start();
        // yield() wraps a checked exception from a mail; the task fails with this chain
        Exception thrown = assertThrows(Exception.class,
                () -> harness.processElement(new StreamRecord<>(InferenceInput.of(request("x1", 4)))));
        ReplicaFailedException failure = ExceptionUtils.findThrowable(thrown, ReplicaFailedException.class)
                .orElseThrow(() -> new AssertionError("no ReplicaFailedException in the chain", thrown));
        assertSame(cause, failure.getCause());
        failer.join();
    }

    @Test
    void aCopyOfAnIdInFlightGoesToTheSideOutputAndTheFirstStillCompletes() throws Exception {
        AtomicReference<FakeReplica> fake = new AtomicReference<>();
        var harness = openHarness(capacity -> 4, fake, null);
        harness.processElement(new StreamRecord<>(InferenceInput.of(request("dup", 2))));
        harness.processElement(new StreamRecord<>(new InferenceInput(request("dup", 3), "k", Map.of("copy", "2"))));

        assertEquals(List.of(), harness.extractOutputValues(), "no completion for the copy");
        var copies = harness.getSideOutput(InferenceOperator.DUPLICATE_IDS);
        assertEquals(1, copies.size());
        InferenceInput copy = copies.peek().getValue();
        assertEquals("dup", copy.id());
        assertEquals(3, copy.request().params().maxTokens(), "the copy as it arrived");
        assertEquals(Map.of("copy", "2"), copy.metadata());
        assertEquals(1, fake.get().admitted.size());

        fake.get().step();
        fake.get().step();
        runPendingMails(harness);
        List<InferenceOutput> out = harness.extractOutputValues();
        assertEquals(1, out.size(), "exactly one completion for the id");
        assertTrue(out.get(0).result().ok());
        assertEquals(2, out.get(0).result().tokenIds().length, "the first request's");
    }

    // ---- helpers ----

    private interface Capacity {
        int of(int subtask);
    }

    /** A fresh harness that has been given {@code first}. */
    private OneInputStreamOperatorTestHarness<InferenceInput, InferenceOutput> openHolding(
            Capacity capacity, AtomicReference<FakeReplica> created, GenerationRequest first) throws Exception {
        var harness = openHarness(capacity, created, null);
        harness.processElement(new StreamRecord<>(InferenceInput.of(first)));
        return harness;
    }

    private OneInputStreamOperatorTestHarness<InferenceInput, InferenceOutput> openHarness(
            Capacity capacity, AtomicReference<FakeReplica> created, OperatorSubtaskState restoreFrom) throws Exception {
        ReplicaFactory factory = (subtask, listener) -> {
            FakeReplica replica = new FakeReplica(capacity.of(subtask), listener);
            created.set(replica);
            return replica;
        };
        var harness = new OneInputStreamOperatorTestHarness<>(new InferenceOperatorFactory(factory),
                MAX_PARALLELISM, PARALLELISM, SUBTASK);
        harnesses.add(harness);
        harness.setup(InferenceTypes.OutputSerializer.INSTANCE);
        if (restoreFrom != null) {
            harness.initializeState(restoreFrom);
        }
        harness.open();
        return harness;
    }

    private static InferenceOperator operator(OneInputStreamOperatorTestHarness<InferenceInput, InferenceOutput> h) {
        return (InferenceOperator) h.getOperator();
    }

    /** Runs the mails already queued, as the task's mailbox loop would between records. */
    private static void runPendingMails(OneInputStreamOperatorTestHarness<?, ?> harness) throws Exception {
        TaskMailbox mailbox = harness.getTaskMailbox();
        Optional<Mail> mail;
        while ((mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY)).isPresent()) {
            mail.get().run();
        }
    }

    private static Map<String, InferenceOutput> uniqueById(List<InferenceOutput> outputs) {
        Map<String, InferenceOutput> byId = new LinkedHashMap<>();
        for (InferenceOutput out : outputs) {
            assertNull(byId.put(out.id(), out), "request " + out.id() + " was emitted twice");
        }
        return byId;
    }

    private static GenerationRequest request(String id, int maxTokens) {
        return new GenerationRequest(id, null, new int[] {1, 42, 7}, null,
                new SamplingParams(0.8f, 1f, 0, maxTokens, id.hashCode(), List.of(), false));
    }
}
