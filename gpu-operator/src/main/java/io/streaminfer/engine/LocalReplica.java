package io.streaminfer.engine;

import io.streaminfer.comm.CommGroup;
import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.compute.KvGeometry;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.StageSpec;
import io.streaminfer.model.TextTokenizer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
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
 * on rank 0's thread (a pipeline's own driver thread), whose rooms are apart: {@link RequestPreparation}
 * turns an admitted request into its tokens (one length rule), the pure {@link StepScheduler} admits it when
 * its KV blocks fit (reusing cached prefixes, {@link KvBlockManager}), plans each step (preempting the newest
 * sequences when blocks run out), the group computes it, and the {@link StepAbsorber} does what the logits
 * call for (scores, samples on the replica's {@link SamplingPool}, stops). Finished sequences leave at once
 * and free their blocks for the next step.
 *
 * <p>Rows never influence each other's arithmetic, so a request gives the same tokens whatever else
 * shares its steps, whether its prefix came from the cache, and resuming from a {@link RequestProgress}
 * or a preemption (re-prefilling prompt + generated tokens) continues it exactly.
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
    private final KvCacheSizing kvSizing;
    private final StepScheduler scheduler;
    private final SamplingPool samplingPool;
    private final StepAbsorber absorber;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workArrived = lock.newCondition();
    // Guarded by lock: the driver changes them between steps; trySubmit and progress read them.
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final Map<String, Sequence> byId = new HashMap<>();
    private final LinkedHashMap<String, Sequence> running = new LinkedHashMap<>();
    private final KvBlockManager kv;
    private boolean closed;

    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private volatile int lastStepRows;
    private volatile int maxRunning;
    private final AtomicLong preemptions = new AtomicLong();
    private final AtomicLong decodeStepNanos = new AtomicLong();
    private final AtomicLong decodeStepTokens = new AtomicLong();

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
        KvCacheSettings kvSettings = config.kvCache();
        this.kvSizing = KvCacheSizing.of(kvSettings, description.config(), description.contextLength(),
                config.maxBatch(), !config.backend().startsWith("cuda"), Runtime.getRuntime().maxMemory());
        this.kv = new KvBlockManager(kvSizing.blocks(), kvSettings.blockSize(), kvSettings.prefixCaching());
        this.planner = new StepPlanner(config.maxStepTokens());
        this.scheduler = new StepScheduler(planner, kv, config.maxBatch());
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
            StageSpec.split(description.config(), config.pipelineStages(), config.pipelineLayers()); // refuses a bad split
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
        KvGeometry geometry = new KvGeometry(kvSizing.blocks(), config.kvCache().blockSize(), positions);
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
            PipelineGroup pipeline = ReplicaStages.start(config, replicaIndex, checkpoint, model, geometry,
                    this::drive, this::onGroupFailure, LOAD_TIMEOUT);
            group = pipeline;
            logKvCache(geometry, pipeline.shard(0, 0).kvCacheBytes());
            return;
        }
        CommOptions options = CommOptions.inProcess().withBackend(ModelShards.commBackendFor(config.backend()))
                .withTimeout(config.collectiveTimeout());
        CommGroup comms = new GroupCoordinator(options).form(String.valueOf(replicaIndex), config.tensorParallelSize());
        TensorParallelGroup tpGroup = TensorParallelGroup.start(comms,
                (rank, communicator) -> ModelShards.create(config.backend(), config.threadsPerRank(), checkpoint,
                        new ShardSpec(rank, config.tensorParallelSize(), model), communicator,
                        geometry, config.maxStepTokens()),
                this::drive, this::onGroupFailure, LOAD_TIMEOUT);
        LOG.info("replica {} up: model {} ({} parameters), TP={}, backend {} x {} thread(s) per rank, "
                        + "up to {} sequences of {} positions, step budget {} rows", replicaIndex,
                config.modelName(), model.parameterCount(), config.tensorParallelSize(), config.backend(),
                config.threadsPerRank(), config.maxBatch(), positions, config.maxStepTokens());
        logKvCache(geometry, tpGroup.driverShard().kvCacheBytes());
        group = tpGroup;
    }

    private void logKvCache(KvGeometry geometry, long perRankBytes) {
        int positions = geometry.positions();
        LOG.info("replica {} KV cache: {} ({}), {} blocks of {} positions = {} whole-context sequences, {} per "
                        + "rank; prefix cache {}", replicaIndex, KvCacheSettings.describeSize(kvSizing.bytes()),
                kvSizing.derived() ? "derived: --max-batch x context, at most 1/" + KvCacheSizing.HEAP_FRACTION
                        + " of the heap; set --kv-cache-memory" : "--kv-cache-memory",
                kvSizing.blocks(), geometry.blockSize(),
                String.format(java.util.Locale.ROOT, "%.1f", kvSizing.fullSequences(positions, geometry.blockSize())),
                KvCacheSettings.describeSize(perRankBytes),
                config.kvCache().prefixCaching() ? "on" : "off");
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
    public double prefixCacheHitRate() {
        return underLock(kv::hitRate);
    }

    @Override
    public int cachedKvBlocks() {
        return underLock(kv::cachedBlocks);
    }

    @Override
    public int freeKvBlocks() {
        return underLock(kv::freeBlocks);
    }

    /** Most sequences that have run at once. */
    public int maxRunning() {
        return maxRunning;
    }

    /** Tokens generated per second of the steps that computed no prompt position (pure decode); 0 before any. */
    public double decodeStepTokensPerSecond() {
        long nanos = decodeStepNanos.get();
        return nanos == 0 ? 0 : decodeStepTokens.get() / (nanos / 1e9);
    }

    /** Sequences preempted (and later recomputed) to make room in the KV cache. */
    public long preemptions() {
        return preemptions.get();
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
    public long[] stageBusyMillis() {
        return Arrays.stream(group.stageBusyNanos()).map(nanos -> nanos / 1_000_000).toArray();
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
        ArrayDeque<Long> submitted = new ArrayDeque<>(); // when each step in flight was submitted
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
                    step = plan(depth);
                    maxRunning = Math.max(maxRunning, running.size());
                }
            } finally {
                lock.unlock();
            }
            if (step != null && !step.isEmpty()) {
                lastStepRows = step.batch().rows();
                submitted.add(System.nanoTime()); // before: at depth 1 the step runs inside submit
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
            long stepNanos = System.nanoTime() - submitted.poll();
            float[] doneLogits = logits[oldest];
            oldest = (oldest + 1) % depth;
            lock.lock();
            try {
                StepAbsorber.Outcome outcome = absorber.absorb(done, doneLogits, running.values(), System.nanoTime());
                promptTokens.addAndGet(outcome.promptRows());
                if (outcome.promptRows() == 0) {
                    decodeStepNanos.addAndGet(stepNanos);
                    decodeStepTokens.addAndGet(outcome.generatedTokens());
                }
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
     * Moves waiting requests, oldest first, into the KV cache while their blocks fit; requests that cannot
     * run complete at once with an error (the room stays free for the next).
     */
    private void admit() {
        while (!waiting.isEmpty()) {
            Sequence s = waiting.peek();
            String problem = s.prepared ? null : prepare(s);
            if (problem != null) {
                waiting.poll();
                byId.remove(s.request.id());
                listener.onResult(GenerationResult.error(s.request.id(), problem,
                        Sequence.millisBetween(s.submittedNanos, System.nanoTime())));
                continue;
            }
            if (!scheduler.admit(s, running.size())) {
                break;
            }
            waiting.poll();
            running.put(s.request.id(), s);
        }
    }

    /**
     * The next step; sequences preempted for it go back to the front of the queue, oldest first, keeping
     * their tokens and random state.
     */
    private StepPlan<Sequence> plan(int depth) {
        List<Sequence> order = new ArrayList<>(running.values());
        StepScheduler.Next<Sequence> next = scheduler.next(order, MicroBatches.eligible(running.values(), depth));
        List<Sequence> preempted = next.preempted();
        for (Sequence s : preempted) {
            running.remove(s.request.id());
            waiting.addFirst(s);
        }
        preemptions.addAndGet(preempted.size());
        scheduler.handOut(next.plan());
        return next.plan();
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

    /**
     * Releases an ended sequence and reports it, under the lock: {@link #progress} stops seeing the request
     * in the same critical section in which the listener receives its result, so a checkpoint always finds it
     * in one place or the other.
     */
    private void complete(Sequence s, GenerationResult result) {
        running.remove(s.request.id());
        byId.remove(s.request.id());
        scheduler.release(s);
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
