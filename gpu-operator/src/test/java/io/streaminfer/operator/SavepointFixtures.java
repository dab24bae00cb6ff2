package io.streaminfer.operator;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.SamplingParams;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The requests, the replica script and the harness settings of the committed savepoint fixtures in
 * {@code src/test/resources/savepoints}, shared by {@link SavepointFixtureWriter} (which wrote them) and the
 * tests that restore them. The fixtures hold exactly these requests in exactly this state: never change
 * the definitions below; a new format gets new fixtures (see the README beside them).
 */
final class SavepointFixtures {
    static final int MAX_PARALLELISM = 128;
    static final int PARALLELISM = 2;
    static final int SUBTASK = 1;
    /** Requests run at a time by the fake replica while the fixture is made; the others wait. */
    static final int RUNNING_SLOTS = 3;
    /** Steps of the script: {@link #EARLY} finishes and is emitted after 2, {@link #DONE} finishes at 5. */
    static final int STEPS_BEFORE_EARLY_EMITTED = 2;
    static final int STEPS_IN_ALL = 5;

    /** Resource names of the fixtures the first format wrote (commit before the versioned serializers). */
    static final String OPERATOR_V1 = "savepoints/inference-operator-v1.snapshot";
    static final String TYPES_V1 = "savepoints/inference-types-v1.snapshot";
    static final String OPERATOR_V2 = "savepoints/inference-operator-v2.snapshot";
    static final String TYPES_V2 = "savepoints/inference-types-v2.snapshot";

    /** Emitted before the snapshot, so not in it. */
    static final String EARLY = "early-g";
    /** Part-way: 5 sampled tokens, stop strings, top-p/top-k, text prompt, key and metadata. */
    static final String PART_WAY = "gen-a";
    /** Part-way with logprobs, token prompt, no key, no metadata, greedy. */
    static final String PART_WAY_LOGPROBS = "gen-b";
    /** Finished by the replica, its result mail not run at the snapshot: stored as a result. */
    static final String DONE = "done-f";
    /** Scoring (a target), still waiting at the snapshot. */
    static final String SCORING = "score-c";
    /** Waiting, not started; a non-ASCII id. */
    static final String WAITING = "wait-ü";
    /** Neither progress nor a result at the snapshot (the replica's finishing window): restarts from its prompt. */
    static final String FROM_START = "race-e";

    private SavepointFixtures() {
    }

    /** The inputs in admission order. */
    static List<InferenceInput> inputs() {
        return List.of(
                new InferenceInput(new GenerationRequest(EARLY, null, new int[] {1, 9}, null,
                        new SamplingParams(1f, 1f, 0, 2, 7L, List.of(), false)), "user-0", Map.of("n", "0")),
                new InferenceInput(new GenerationRequest(PART_WAY, "Once upon a time", null, null,
                        new SamplingParams(0.8f, 0.95f, 40, 12, 42L, List.of("\n\n", "The end"), false)),
                        "user-1", ordered("source", "fixture", "n", "1")),
                new InferenceInput(new GenerationRequest(PART_WAY_LOGPROBS, null, new int[] {1, 42, 7, 300}, null,
                        new SamplingParams(0f, 1f, 0, 20, -3L, List.of(), true)), null, Map.of()),
                new InferenceInput(new GenerationRequest(DONE, "The little dog", null, null,
                        new SamplingParams(0.7f, 0.9f, 0, 3, Long.MIN_VALUE, List.of("."), true)),
                        "user-2", Map.of("n", "3")),
                new InferenceInput(new GenerationRequest(SCORING, "Tom had a big red ball", null, ", and he was happy",
                        new SamplingParams(1f, 1f, 0, 256, 11L, List.of(), false)), "user-2",
                        ordered("n", "4", "kind", "score")),
                new InferenceInput(new GenerationRequest(WAITING, "Ünïcödé prompt ✓", null, null,
                        new SamplingParams(1.3f, 0.5f, 3, 30, Long.MAX_VALUE, List.of("é"), false)), "ключ",
                        ordered("ü", "✓", "empty", "")),
                new InferenceInput(new GenerationRequest(FROM_START, null, new int[] {1, 2, 3}, null,
                        new SamplingParams(0.5f, 1f, 0, 9, 99L, List.of(), false)), "user-5", Map.of("n", "6")));
    }

    static InferenceInput input(String id) {
        return inputs().stream().filter(in -> in.id().equals(id)).findFirst().orElseThrow();
    }

    private static Map<String, String> ordered(String... keysAndValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** A harness of the InferenceOperator on a {@link FakeReplica}, as the fixtures were written. */
    static OneInputStreamOperatorTestHarness<InferenceInput, InferenceOutput> operatorHarness(
            int runningSlots, AtomicReference<FakeReplica> created) throws Exception {
        ReplicaFactory factory = (subtask, listener) -> {
            FakeReplica replica = new FakeReplica(16, runningSlots, listener);
            created.set(replica);
            return replica;
        };
        var harness = new OneInputStreamOperatorTestHarness<>(new InferenceOperatorFactory(factory),
                MAX_PARALLELISM, PARALLELISM, SUBTASK);
        harness.setup(InferenceTypes.OutputSerializer.INSTANCE);
        return harness;
    }

    /**
     * Runs the fixture's script on an opened harness and takes the snapshot: after it, {@link #EARLY} was
     * emitted, {@link #PART_WAY} and {@link #PART_WAY_LOGPROBS} hold {@value #STEPS_IN_ALL} tokens each, {@link #DONE}'s
     * result waits for its mail, {@link #SCORING} and {@link #WAITING} wait, {@link #FROM_START} hides its
     * progress.
     */
    static OperatorSubtaskState runScriptAndSnapshot(OneInputStreamOperatorTestHarness<InferenceInput, InferenceOutput> h,
                                                     FakeReplica replica) throws Exception {
        for (InferenceInput in : inputs()) {
            h.processElement(new StreamRecord<>(in));
        }
        for (int i = 0; i < STEPS_BEFORE_EARLY_EMITTED; i++) {
            replica.step();
        }
        runPendingMails(h);
        for (int i = STEPS_BEFORE_EARLY_EMITTED; i < STEPS_IN_ALL; i++) {
            replica.step();
        }
        replica.hideProgress(FROM_START);
        List<String> emitted = h.extractOutputValues().stream().map(InferenceOutput::id).toList();
        if (!emitted.equals(List.of(EARLY))) {
            throw new IllegalStateException("the fixture script emitted " + emitted + ", expected only " + EARLY);
        }
        return h.snapshot(1L, 1L);
    }

    /** Steps a request ran before the snapshot: the part-way ones ran every step, the waiting ones none. */
    static int stepsOf(String id) {
        return switch (id) {
            case PART_WAY, PART_WAY_LOGPROBS -> STEPS_IN_ALL;
            default -> 0;
        };
    }

    /** A harness of {@link TypedStateOperator}, which keeps elements in state with the InferenceTypes serializers. */
    static OneInputStreamOperatorTestHarness<InferenceInput, Void> typedStateHarness() throws Exception {
        var harness = new OneInputStreamOperatorTestHarness<InferenceInput, Void>(
                SimpleOperatorFactory.of(new TypedStateOperator()), MAX_PARALLELISM, 1, 0);
        harness.setup();
        return harness;
    }

    static OperatorSubtaskState readResource(String resource) throws Exception {
        var url = SavepointFixtures.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException("fixture " + resource + " is not on the test classpath");
        }
        return OperatorSnapshotUtil.readStateHandle(Path.of(url.toURI()).toString());
    }

    static void write(OperatorSubtaskState state, Path file) throws Exception {
        Files.createDirectories(file.getParent());
        OperatorSnapshotUtil.writeStateHandle(state, file.toString());
    }

    /** Runs the mails already queued, as the task's mailbox loop would between records. */
    static void runPendingMails(OneInputStreamOperatorTestHarness<?, ?> harness) throws Exception {
        TaskMailbox mailbox = harness.getTaskMailbox();
        Optional<Mail> mail;
        while ((mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY)).isPresent()) {
            mail.get().run();
        }
    }
}
