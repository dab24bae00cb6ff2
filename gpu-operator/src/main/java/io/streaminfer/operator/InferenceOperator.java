package io.streaminfer.operator;

import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.InferenceReplica;
import io.streaminfer.engine.RequestProgress;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * Hosts one {@link InferenceReplica} per subtask and feeds it the subtask's requests, exactly once.
 * Built by {@link InferenceOperatorFactory}; see the package documentation for the mailbox model, the
 * state layout and the exactly-once argument.
 */
public final class InferenceOperator extends AbstractStreamOperator<InferenceOutput>
        implements OneInputStreamOperator<InferenceInput, InferenceOutput>, BoundedOneInput {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(InferenceOperator.class);
    /**
     * Requests whose id is already in flight on this replica, as they arrived. The job turns them into
     * dead-letter records; the completion of the copy in flight answers them.
     */
    public static final OutputTag<InferenceInput> DUPLICATE_IDS = new OutputTag<>("duplicate-ids", InferenceTypes.input());
    /** Name of the operator list state holding the in-flight requests. */
    public static final String STATE_NAME = "inference-in-flight";

    private final ReplicaFactory replicaFactory;
    private final transient MailboxExecutor mailbox;

    // Mailbox thread only.
    /** Admitted and not yet emitted, in admission order. */
    private final transient Map<String, InferenceInput> inFlight = new LinkedHashMap<>();
    private transient ListState<byte[]> inFlightState;
    /** Read from the checkpoint in initializeState, resubmitted in open (the replica exists only then). */
    private transient List<InFlightEntry> restored = List.of();
    private transient InferenceReplica replica;
    private transient InferenceMetrics metrics;
    private transient int subtaskIndex;

    // Shared with the replica's threads.
    /** Results the replica reported whose mail has not run yet: a snapshot must not lose them. */
    private final transient ConcurrentHashMap<String, GenerationResult> reportedNotEmitted = new ConcurrentHashMap<>();
    /** Mirror of inFlight.size() for the metric reporter's thread. */
    private transient volatile int inFlightCount;
    private transient volatile boolean closing;

    InferenceOperator(StreamOperatorParameters<InferenceOutput> parameters, ReplicaFactory replicaFactory,
                      MailboxExecutor mailbox) {
        super(parameters);
        this.replicaFactory = Objects.requireNonNull(replicaFactory, "replicaFactory");
        this.mailbox = Objects.requireNonNull(mailbox, "mailbox executor (the factory must be a YieldingOperatorFactory)");
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        inFlightState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>(STATE_NAME, BytePrimitiveArraySerializer.INSTANCE));
        if (context.isRestored()) {
            List<InFlightEntry> entries = new ArrayList<>();
            for (byte[] bytes : inFlightState.get()) {
                entries.add(InFlightEntry.decode(bytes));
            }
            restored = entries;
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        subtaskIndex = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        replica = Objects.requireNonNull(replicaFactory.create(subtaskIndex, new MailboxListener()),
                "replica factory returned null");
        metrics = new InferenceMetrics(getMetricGroup(), replica, () -> inFlightCount);
        if (!restored.isEmpty()) {
            LOG.info("Subtask {} resumes {} requests from the checkpoint", subtaskIndex, restored.size());
        }
        for (InFlightEntry entry : restored) {
            if (entry.isFinished()) {
                emit(entry.input(), entry.finished());
            } else {
                admit(entry.input(), entry.progress());
            }
        }
        restored = List.of();
    }

    @Override
    public void processElement(StreamRecord<InferenceInput> element) throws Exception {
        InferenceInput input = element.getValue();
        if (inFlight.containsKey(input.id())) {
            // The replica tracks requests by id, so a second copy cannot run beside the first. It goes to
            // the side output rather than becoming an ERROR completion: the first copy's completion is the
            // answer, and a second completion under the same id would give consumers two answers for one id.
            LOG.warn("replica {}: request id {} is already in flight; the copy goes to the dead letters",
                    subtaskIndex, input.id());
            output.collect(DUPLICATE_IDS, new StreamRecord<>(input));
            return;
        }
        admit(input, null);
    }

    /** Submits, yielding to result mails (which free capacity) while the replica is full. */
    private void admit(InferenceInput input, RequestProgress resumeFrom) throws Exception {
        while (!replica.trySubmit(input.request(), resumeFrom)) {
            mailbox.yield();
        }
        // No yield between the successful submit and this line, so the result mail finds the entry.
        inFlight.put(input.id(), input);
        inFlightCount = inFlight.size();
    }

    /** Runs as a mail: the replica reported the result of {@code id}. */
    private void completeFromMail(String id) {
        GenerationResult result = reportedNotEmitted.remove(id);
        InferenceInput input = inFlight.remove(id);
        if (result == null || input == null) {
            throw new IllegalStateException("replica " + subtaskIndex + " reported a result for request " + id
                    + " that is not in flight (reported twice?)");
        }
        inFlightCount = inFlight.size();
        emit(input, result);
    }

    private void emit(InferenceInput input, GenerationResult result) {
        output.collect(new StreamRecord<>(new InferenceOutput(input.key(), input.metadata(), result, subtaskIndex,
                replica.tensorParallelSize(), replica.modelName())));
        metrics.onResult(result);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<byte[]> entries = new ArrayList<>(inFlight.size());
        for (InferenceInput input : inFlight.values()) {
            entries.add(snapshotEntry(input).encode());
        }
        inFlightState.update(entries);
    }

    /**
     * What to store for one admitted, unemitted request. The replica may finish it concurrently, so:
     * a reported result wins; else its progress; if progress is gone too, the result is on its way
     * (look again); if it is still not there, the replica is between dropping the progress and calling
     * the listener, and the request restarts from its prompt on restore, which by the determinism
     * promise gives the same tokens.
     */
    private InFlightEntry snapshotEntry(InferenceInput input) {
        String id = input.id();
        GenerationResult result = reportedNotEmitted.get(id);
        if (result != null) {
            return InFlightEntry.finished(input, result);
        }
        RequestProgress progress = replica.progress(id);
        if (progress != null) {
            return InFlightEntry.running(input, progress);
        }
        result = reportedNotEmitted.get(id);
        if (result != null) {
            return InFlightEntry.finished(input, result);
        }
        LOG.debug("Request {} has neither progress nor a reported result at the snapshot; it restarts on restore", id);
        return InFlightEntry.running(input, null);
    }

    /**
     * Bounded input ended: yield until every admitted request has been emitted. Flink calls finish()
     * only after this (or for stop-with-savepoint --drain, which also ends the input), so finish()
     * needs no drain of its own; a plain stop-with-savepoint keeps the in-flight requests in the state.
     */
    @Override
    public void endInput() throws Exception {
        drain();
    }

    /** Yields until every admitted request has been emitted. */
    private void drain() throws InterruptedException {
        while (!inFlight.isEmpty()) {
            mailbox.yield();
        }
    }

    @Override
    public void close() throws Exception {
        closing = true;
        try {
            if (replica != null) {
                replica.close();
            }
        } finally {
            super.close();
        }
    }

    /** Requests admitted and not yet emitted (for tests). */
    int inFlightCount() {
        return inFlightCount;
    }

    InferenceMetrics metrics() {
        return metrics;
    }

    /** Runs on the replica's threads: park the result, then hand it to the mailbox. */
    private final class MailboxListener implements InferenceReplica.Listener {
        @Override
        public void onResult(GenerationResult result) {
            if (closing) {
                return;
            }
            reportedNotEmitted.put(result.id(), result);
            try {
                mailbox.execute(() -> completeFromMail(result.id()), "inference result %s", result.id());
            } catch (RejectedExecutionException e) {
                // The task is shutting down; the result belongs to the next attempt, which restores it.
                LOG.debug("Mailbox closed, result of {} left to the restored attempt", result.id());
            }
        }

        @Override
        public void onFailure(Throwable cause) {
            if (closing) {
                return;
            }
            try {
                mailbox.execute(() -> {
                    throw new ReplicaFailedException(subtaskIndex, cause);
                }, "inference replica failure");
            } catch (RejectedExecutionException e) {
                LOG.warn("Replica of subtask {} failed while the task was shutting down", subtaskIndex, cause);
            }
        }
    }
}
