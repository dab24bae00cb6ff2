/**
 * The Flink operator that hosts one inference replica per subtask.
 *
 * <h2>Wiring</h2>
 * <pre>{@code
 * DataStream<InferenceInput> requests = ...;                 // decoded PromptRecords
 * requests.keyBy(in -> in.key() != null ? in.key() : in.id(), Types.STRING)
 *         .transform("inference", InferenceTypes.output(), new InferenceOperatorFactory(replicaFactory));
 * }</pre>
 * {@link io.streaminfer.operator.ReplicaFactory} is serializable configuration; each subtask calls it
 * once in {@code open()} with its subtask index. Parallelism is the data-parallel degree.
 *
 * <h2>Mailbox model</h2>
 * Everything the operator owns (the in-flight map, the output, the metrics' counters) is touched only on
 * the task's mailbox thread. The replica works on its own threads; its listener does two things only:
 * it parks a finished result in a concurrent map and posts a mail ({@code mailboxExecutor.execute}) that
 * emits it; a replica failure posts a mail that throws {@link io.streaminfer.operator.ReplicaFailedException},
 * so the task fails with the cause and Flink's restart strategy takes over. The mailbox executor comes
 * from {@link io.streaminfer.operator.InferenceOperatorFactory}, a {@code YieldingOperatorFactory}.
 * <ul>
 *   <li>Backpressure: while {@code trySubmit} returns false, {@code processElement} calls
 *       {@code mailboxExecutor.yield()}, which blocks until a mail (a result, freeing capacity, or a
 *       failure) runs. Input stops, Flink's backpressure reaches the source; nothing is dropped.</li>
 *   <li>End of input: {@code endInput()} yields until nothing is in flight.</li>
 *   <li>A second request with an id already in flight goes to the side output
 *       {@link io.streaminfer.operator.InferenceOperator#DUPLICATE_IDS} (the replica tracks requests by id;
 *       the job makes it a dead letter), so each id gets one completion.</li>
 * </ul>
 *
 * <h2>State layout</h2>
 * One operator (non-keyed) {@code ListState<byte[]>} named {@value io.streaminfer.operator.InferenceOperator#STATE_NAME},
 * one entry per request admitted and not yet emitted, each in the versioned format of
 * {@code InFlightEntry}: {@code format kind input [progress | result]}, kind 0 = restart from the
 * prompt, 1 = resume from {@link io.streaminfer.engine.RequestProgress} (generated tokens and RNG
 * state), 2 = finished result whose emission mail had not run. The bytes are written by a hand-written
 * codec ({@code InferenceCodec}, whose elements carry their layout), never Kryo; this release reads every
 * format and layout an earlier one wrote, and the tests restore a savepoint fixture of each
 * ({@code src/test/resources/savepoints}). Being list state, entries are redistributed on rescaling; a
 * request may then resume on another replica than its key's, which costs only prefix-cache affinity.
 *
 * <h2>Exactly once</h2>
 * A checkpoint is taken on the mailbox thread, between mails, so the in-flight map and the output are a
 * consistent cut: every request before the barrier is either emitted (its output precedes the barrier
 * downstream) or in the map (and stored). For each stored request the snapshot records, in this order of
 * preference, the result the replica already reported (its mail will emit it after the barrier in this
 * attempt, and the restored attempt emits it again from state, after the rollback of this one), else its
 * latest progress, else nothing (the replica is between dropping the progress and reporting the result:
 * the request restarts from its prompt, which by the determinism promise yields the same tokens). On
 * restore ({@code initializeState} reads the entries, {@code open()} acts once the replica exists),
 * finished entries are emitted and the rest resubmitted with their progress, so each request is emitted
 * exactly once per successful epoch; with a transactional sink, each id reaches the reader once. A
 * result whose id is not in flight fails the task rather than emit a duplicate.
 *
 * <h2>Checkpoints under backpressure</h2>
 * As with {@code AsyncWaitOperator}, an aligned barrier waits behind the records queued before it, and
 * the yield in {@code processElement} does not run checkpoint mails: with a full replica, a checkpoint
 * completes only once every record before its barrier is admitted (unaligned checkpoints shorten this).
 * When a bounded source finishes, {@code endInput()} drains and no checkpoint holds the in-flight
 * requests; keep the source open (as Kafka does) for mid-run checkpoints.
 *
 * <h2>Metrics</h2>
 * See {@link io.streaminfer.operator.InferenceMetrics} for the names, under the subgroup {@code inference}.
 */
package io.streaminfer.operator;
