package io.streaminfer.engine;

import io.streaminfer.comm.CommGroup;
import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.compute.StepBatch;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.StageSpec;
import io.streaminfer.model.TextTokenizer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica on this JVM: a continuous-batching scheduler driving a {@link TensorParallelGroup}, or at
 * PP &gt; 1 a {@link PipelineGroup} of stages with up to PP steps (micro-batches) in flight.
 *
 * <p>It fronts admission (a bounded queue, {@link #trySubmit}, {@link #progress}) and runs the driver loop
 * on rank 0's thread (a pipeline's own driver thread), whose rooms are apart: {@link RequestPreparation} turns an admitted request into
 * its tokens (one length rule), the {@link KvAllocator} gives it a place in the KV cache, the pure
 * {@link StepPlanner} decides what each step computes, the group computes it, and the {@link StepAbsorber}
 * does what the logits call for (scores, samples on the replica's {@link SamplingPool}, stops). Finished
 * sequences leave at once and free their place for the next step.
 *
 * <p>Rows never influence each other's arithmetic, so a request gives the same tokens whatever else
 * shares its steps, and resuming from a {@link RequestProgress} (re-prefilling prompt + generated tokens)
 * continues it exactly.
 */
public final class LocalReplica implements InferenceReplica {
    private static final Logger LOG = LoggerFactory.getLogger(LocalReplica.class);
    private static final Duration LOAD_TIMEOUT = Duration.ofMinutes(10);

    private final ReplicaConfig config;
    private final int replicaIndex;
    private final Listener listener;
    private final Checkpoint checkpoint;
    private final ModelDescription description;
    private final TextTokenizer tokenizer;
    private final RequestPreparation preparation;
    private final java.util.function.IntPredicate eos; // the model's and the tokenizer's EOS ids
    private final StepPlanner planner;
    private final SamplingPool samplingPool;
    private final StepAbsorber absorber;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workArrived = lock.newCondition();
    // Guarded by lock: the driver changes them between steps; trySubmit and progress read them.
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final Map<String, Sequence> byId = new HashMap<>();
    private final LinkedHashMap<String, Sequence> running = new LinkedHashMap<>();
    private final KvAllocator kv;
    private boolean closed;

    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private volatile int lastStepRows;

    private StepExecutor group;

    private LocalReplica(ReplicaConfig config, int replicaIndex, Listener listener, Checkpoint checkpoint,
                         ModelDescription description, TextTokenizer tokenizer) {
        this.config = config;
        this.replicaIndex = replicaIndex;
        this.listener = listener;
        this.checkpoint = checkpoint;
        this.description = description;
        this.tokenizer = tokenizer;
        this.preparation = RequestPreparation.of(description, tokenizer);
        this.eos = StopCriteria.eosOf(description.config(), tokenizer);
        this.kv = new SlotAllocator(config.maxBatch(), description.contextLength());
        this.planner = new StepPlanner(config.maxStepTokens());
        // As many helpers as the replica has compute threads besides the driver: they are idle while it samples.
        this.samplingPool = new SamplingPool("tp:" + replicaIndex + "-sampler",
                config.tensorParallelSize() * config.threadsPerRank() - 1);
        this.absorber = new StepAbsorber(description.config().vocabularySize(), description.contextLength(),
                samplingPool);
    }

    /**
     * Loads the model (each rank cuts its own shard) and starts the worker group. Refuses a TP degree the
     * model cannot be split by before any weight is packed.
     */
    public static LocalReplica start(ReplicaConfig config, int replicaIndex, Listener listener) throws Exception {
        Checkpoint checkpoint = ModelDescription.openCheckpoint(config);
        try {
            ModelDescription description = ModelDescription.of(config, checkpoint.config());
            ShardSpec.check(description.config(), config.tensorParallelSize());
            StageSpec.check(description.config(), config.pipelineStages());
            LocalReplica replica = new LocalReplica(config, replicaIndex, listener, checkpoint, description,
                    description.loadTokenizer());
            replica.startGroup();
            return replica;
        } catch (Exception | Error e) {
            checkpoint.close();
            throw e;
        }
    }

    private void startGroup() throws Exception {
        ModelConfig model = description.config();
        int positions = description.contextLength();
        ShardSpec probe = new ShardSpec(0, config.tensorParallelSize(), model);
        if (!probe.bitwiseIdenticalToSingleRank()) {
            LOG.warn("TP={} does not divide the model's {} reduction segments: results will differ from TP=1 "
                    + "in the last bits", config.tensorParallelSize(), probe.reductionSegments());
        }
        if ("openblas".equals(config.backend())) {
            LOG.warn("replica {}: the openblas kernel is not batch-invariant: a request's tokens may change with "
                    + "the batch it shares and after a restore; use the vector kernel for reproducible output",
                    replicaIndex);
        }
        if (config.pipelineStages() > 1) {
            group = ReplicaStages.start(config, replicaIndex, checkpoint, model, positions, this::drive,
                    this::onGroupFailure, LOAD_TIMEOUT);
            return;
        }
        CommOptions options = CommOptions.inProcess().withBackend(ModelShards.commBackendFor(config.backend()))
                .withTimeout(config.collectiveTimeout());
        CommGroup comms = new GroupCoordinator(options).form(String.valueOf(replicaIndex), config.tensorParallelSize());
        TensorParallelGroup tpGroup = TensorParallelGroup.start(comms,
                (rank, communicator) -> ModelShards.create(config.backend(), config.threadsPerRank(), checkpoint,
                        new ShardSpec(rank, config.tensorParallelSize(), model), communicator, config.maxBatch(),
                        positions, config.maxStepTokens()),
                this::drive, this::onGroupFailure, LOAD_TIMEOUT);
        LOG.info("replica {} up: model {} ({} parameters), TP={}, backend {} x {} thread(s) per rank, "
                        + "{} slots x {} positions, KV cache {} MiB per rank", replicaIndex, config.modelName(),
                model.parameterCount(), config.tensorParallelSize(), config.backend(), config.threadsPerRank(),
                config.maxBatch(), positions, tpGroup.driverShard().kvCacheBytes() >> 20);
        group = tpGroup;
    }

    /** Positions each sequence may use: prompt plus completion. */
    public int contextLength() {
        return description.contextLength();
    }

    @Override
    public boolean trySubmit(GenerationRequest request, RequestProgress resumeFrom) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("replica " + replicaIndex + " is closed");
            }
            if (group.failure() != null) {
                throw new IllegalStateException("replica " + replicaIndex + " has failed", group.failure());
            }
            if (byId.containsKey(request.id())) {
                throw new IllegalArgumentException("request " + request.id() + " is already in flight");
            }
            if (waiting.size() >= config.maxWaiting()) {
                return false;
            }
            Sequence sequence = new Sequence(request, resumeFrom, System.nanoTime());
            waiting.add(sequence);
            byId.put(request.id(), sequence);
            workArrived.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public RequestProgress progress(String id) {
        return underLock(() -> {
            Sequence s = byId.get(id);
            return s == null ? null : s.progress();
        });
    }

    @Override
    public int running() {
        return underLock(running::size);
    }

    @Override
    public int waiting() {
        return underLock(waiting::size);
    }

    @Override
    public double kvCacheUsage() {
        return underLock(kv::usage);
    }

    /** What {@code read} sees while holding the replica's lock. */
    private <T> T underLock(Supplier<T> read) {
        lock.lock();
        try {
            return read.get();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public double batchOccupancy() {
        return lastStepRows / (double) planner.rowBudget();
    }

    public long generatedTokens() {
        return generatedTokens.get();
    }

    public long promptTokens() {
        return promptTokens.get();
    }

    /** Nanoseconds this replica's ranks have waited for a neighbouring pipeline stage (0 at PP=1). */
    public long stageWaitNanos() {
        return group.stageWaitNanos();
    }

    @Override
    public long stageWaitMillis() {
        return stageWaitNanos() / 1_000_000;
    }

    @Override
    public String modelName() {
        return config.modelName();
    }

    @Override
    public int tensorParallelSize() {
        return config.tensorParallelSize();
    }

    // ---- the driver, on rank 0's thread (a pipeline's own driver thread) ----

    /**
     * Plans steps while fewer than the executor's depth are in flight (each a micro-batch of different
     * sequences: {@link MicroBatches}), then absorbs the oldest. At depth 1 it plans, runs and absorbs one
     * step at a time.
     */
    private void drive(StepExecutor executor) throws InterruptedException {
        int depth = executor.depth();
        float[][] logits = new float[depth][planner.rowBudget() * description.config().vocabularySize()]; // (rows, vocab)
        ArrayDeque<StepPlan<Sequence>> inFlight = new ArrayDeque<>();
        int oldest = 0; // logits buffer of the oldest step in flight
        while (true) {
            StepPlan<Sequence> step = null;
            lock.lock();
            try {
                while (!closed && waiting.isEmpty() && running.isEmpty()) {
                    workArrived.await(100, TimeUnit.MILLISECONDS);
                }
                if (closed) {
                    return;
                }
                if (inFlight.size() < depth) {
                    admit();
                    step = planner.plan(MicroBatches.eligible(running.values(), depth));
                    handOut(step);
                }
            } finally {
                lock.unlock();
            }
            if (step != null && !step.isEmpty()) {
                lastStepRows = step.batch().rows();
                executor.submit(step.batch(), logits[(oldest + inFlight.size()) % depth]);
                inFlight.add(step);
                if (inFlight.size() < depth) {
                    continue; // fill the pipeline before waiting on it
                }
            }
            if (inFlight.isEmpty()) {
                continue;
            }
            executor.awaitOldest();
            StepPlan<Sequence> done = inFlight.poll();
            float[] doneLogits = logits[oldest];
            oldest = (oldest + 1) % depth;
            lock.lock();
            try {
                StepAbsorber.Outcome outcome = absorber.absorb(done, doneLogits, running.values(), System.nanoTime());
                promptTokens.addAndGet(outcome.promptRows());
                generatedTokens.addAndGet(outcome.generatedTokens());
                for (StepAbsorber.Ended ended : outcome.ended()) {
                    complete(ended.sequence(), ended.result());
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Moves waiting requests, oldest first, into the KV cache while it has room; requests that cannot run
     * complete at once with an error (the room stays free for the next).
     */
    private void admit() {
        while (!waiting.isEmpty() && kv.hasRoom()) {
            Sequence s = waiting.peek();
            String problem = s.prepared ? null : prepare(s);
            if (problem != null) {
                waiting.poll();
                byId.remove(s.request.id());
                listener.onResult(GenerationResult.error(s.request.id(), problem,
                        Sequence.millisBetween(s.submittedNanos, System.nanoTime())));
                continue;
            }
            int slot = kv.allocate(s.feedLength());
            if (slot < 0) {
                break;
            }
            waiting.poll();
            s.slot = slot;
            running.put(s.request.id(), s);
        }
    }

    /** Gives a sequence its tokens, sampler and stop criteria; returns why it cannot run, or null. */
    private String prepare(Sequence s) {
        s.prepared = true;
        try {
            RequestPreparation.Tokens tokens = preparation.prepare(s.request);
            for (int token : tokens.prompt()) {
                s.append(token);
            }
            s.promptLength = tokens.prompt().length;
            if (tokens.scoring()) {
                for (int token : tokens.target()) {
                    s.append(token);
                }
                s.scoring = true;
                return null;
            }
            SamplingParams params = s.request.params();
            s.stop = new StopCriteria(eos, params.maxTokens(), params.stop(), tokenizer,
                    tokens.prompt());
            long state = RandomStream.initialState(params.seed());
            if (s.resumeFrom != null) {
                for (int token : s.resumeFrom.generatedTokens()) {
                    s.addGenerated(token);
                    s.stop.restore(token);
                }
                state = s.resumeFrom.rngState();
                if (s.length > preparation.contextLength()) {
                    // Restored into a replica with a smaller context (e.g. a changed --kv-budget).
                    return "resumed with " + s.length + " tokens but the context now holds "
                            + preparation.contextLength();
                }
            }
            s.random = new RandomStream(state);
            s.sampler = Sampler.forParams(params, s.random);
            return null;
        } catch (InvalidRequestException e) {
            return e.getMessage();
        } catch (RuntimeException e) {
            // One request's bad input must not fail the replica (and crash-loop the job on restore).
            return "cannot prepare the request: " + e.getMessage();
        }
    }

    /** Hands a planned step's positions to its sequences, so the next plan starts after them. */
    private static void handOut(StepPlan<Sequence> step) {
        StepBatch batch = step.batch();
        for (int r = 0; r < batch.rows(); r++) {
            step.sequences().get(r).scheduled = batch.positions()[r] + 1;
        }
    }

    /**
     * Releases an ended sequence and reports it, under the lock: {@link #progress} stops seeing the request
     * in the same critical section in which the listener receives its result, so a checkpoint always finds it
     * in one place or the other.
     */
    private void complete(Sequence s, GenerationResult result) {
        running.remove(s.request.id());
        byId.remove(s.request.id());
        kv.release(s.slot);
        listener.onResult(result);
    }

    private void onGroupFailure(Throwable cause) {
        LOG.error("replica {} failed", replicaIndex, cause);
        listener.onFailure(cause);
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            workArrived.signalAll();
        } finally {
            lock.unlock();
        }
        if (group != null) {
            group.close();
        }
        samplingPool.close();
        checkpoint.close();
    }
}
