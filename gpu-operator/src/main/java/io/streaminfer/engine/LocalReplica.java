package io.streaminfer.engine;

import io.streaminfer.comm.CommGroup;
import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Llama2cCheckpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.compute.StepBatch;
import io.streaminfer.model.Llama2cTokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica on this JVM: a continuous-batching scheduler driving a {@link TensorParallelGroup}.
 *
 * <p>Each step the driver (rank 0's thread) admits waiting requests into free KV slots, gives every
 * decoding sequence one row, fills the rest of the step's row budget with prefill chunks in admission
 * order (so a long prompt never holds back short ones), runs the step on all ranks, then samples and
 * checks stops. Finished sequences leave at once and free their slot for the next step.
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
    private final ModelConfig model;
    private final Llama2cTokenizer tokenizer;
    private final int positions;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workArrived = lock.newCondition();
    // Guarded by lock: the driver changes them between steps; trySubmit and progress read them.
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final Map<String, Sequence> byId = new HashMap<>();
    private final LinkedHashMap<String, Sequence> running = new LinkedHashMap<>();
    private final Sequence[] bySlot;
    private boolean closed;

    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private volatile int lastStepRows;

    private TensorParallelGroup group;
    /** Helps the driver sample; null when the replica has a single compute thread. */
    private final java.util.concurrent.ExecutorService samplingThreads;
    private final int samplingParallelism;

    private LocalReplica(ReplicaConfig config, int replicaIndex, Listener listener, Checkpoint checkpoint,
                         Llama2cTokenizer tokenizer) {
        this.config = config;
        this.replicaIndex = replicaIndex;
        this.listener = listener;
        this.checkpoint = checkpoint;
        this.model = checkpoint.config();
        this.tokenizer = tokenizer;
        this.positions = config.maxContext() == 0 ? model.contextLength()
                : Math.min(config.maxContext(), model.contextLength());
        this.bySlot = new Sequence[config.maxBatch()];
        // As many helpers as the replica has compute threads besides the driver: they are idle while it samples.
        this.samplingParallelism = config.tensorParallelSize() * config.threadsPerRank() - 1;
        this.samplingThreads = samplingParallelism < 1 ? null
                : java.util.concurrent.Executors.newFixedThreadPool(samplingParallelism, runnable -> {
                    Thread t = new Thread(runnable, "tp:" + replicaIndex + "-sampler");
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * Loads the model (each rank cuts its own shard) and starts the worker group. Refuses a TP degree the
     * model cannot be split by before any weight is packed.
     */
    public static LocalReplica start(ReplicaConfig config, int replicaIndex, Listener listener) throws Exception {
        Checkpoint checkpoint = Llama2cCheckpoint.open(Path.of(config.modelPath()));
        try {
            ModelConfig model = checkpoint.config();
            ShardSpec.check(model, config.tensorParallelSize());
            Llama2cTokenizer tokenizer = config.tokenizerPath() == null || config.tokenizerPath().isBlank() ? null
                    : Llama2cTokenizer.load(Path.of(config.tokenizerPath()), model.vocabularySize());
            LocalReplica replica = new LocalReplica(config, replicaIndex, listener, checkpoint, tokenizer);
            replica.startGroup();
            return replica;
        } catch (Exception | Error e) {
            checkpoint.close();
            throw e;
        }
    }

    private void startGroup() throws Exception {
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
        CommOptions options = CommOptions.inProcess().withBackend(ModelShards.commBackendFor(config.backend()))
                .withTimeout(config.collectiveTimeout());
        CommGroup comms = new GroupCoordinator(options).form(String.valueOf(replicaIndex), config.tensorParallelSize());
        group = TensorParallelGroup.start(comms,
                (rank, communicator) -> ModelShards.create(config.backend(), config.threadsPerRank(), checkpoint,
                        new ShardSpec(rank, config.tensorParallelSize(), model), communicator, config.maxBatch(),
                        positions, config.maxStepTokens()),
                this::drive, this::onGroupFailure, LOAD_TIMEOUT);
        LOG.info("replica {} up: model {} ({} parameters), TP={}, backend {} x {} thread(s) per rank, "
                        + "{} slots x {} positions, KV cache {} MiB per rank", replicaIndex, config.modelName(),
                model.parameterCount(), config.tensorParallelSize(), config.backend(), config.threadsPerRank(),
                config.maxBatch(), positions, group.driverShard().kvCacheBytes() >> 20);
    }

    public ModelConfig modelConfig() {
        return model;
    }

    public Llama2cTokenizer tokenizer() {
        return tokenizer;
    }

    /** Positions each sequence may use: prompt plus completion. */
    public int contextLength() {
        return positions;
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
        lock.lock();
        try {
            Sequence s = byId.get(id);
            if (s == null) {
                return null;
            }
            if (s.sampler == null) {
                // Not started yet: it would start from its resume point, or from scratch.
                return s.resumeFrom != null ? s.resumeFrom
                        : new RequestProgress(new int[0], RandomStream.initialState(s.request.params().seed()));
            }
            return s.progress();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int running() {
        lock.lock();
        try {
            return running.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int waiting() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public double kvCacheUsage() {
        return running() / (double) bySlot.length;
    }

    @Override
    public double batchOccupancy() {
        return lastStepRows / (double) config.maxStepTokens();
    }

    public long generatedTokens() {
        return generatedTokens.get();
    }

    public long promptTokens() {
        return promptTokens.get();
    }

    @Override
    public String modelName() {
        return config.modelName();
    }

    @Override
    public int tensorParallelSize() {
        return config.tensorParallelSize();
    }

    // ---- the driver, on rank 0's thread ----

    private void drive(TensorParallelGroup group) throws InterruptedException {
        float[] logits = new float[config.maxStepTokens() * model.vocabularySize()];
        while (true) {
            lock.lock();
            try {
                while (!closed && waiting.isEmpty() && running.isEmpty()) {
                    workArrived.await(100, TimeUnit.MILLISECONDS);
                }
                if (closed) {
                    return;
                }
                admit();
            } finally {
                lock.unlock();
            }
            if (running.isEmpty()) {
                continue;
            }
            StepBatch batch = planStep();
            group.step(batch, logits);
            lock.lock();
            try {
                absorb(batch, logits);
            } finally {
                lock.unlock();
            }
        }
    }

    /** Moves waiting requests into free slots; requests that cannot run finish with an error. */
    private void admit() {
        for (int slot = 0; slot < bySlot.length && !waiting.isEmpty(); slot++) {
            if (bySlot[slot] != null) {
                continue;
            }
            Sequence s = waiting.poll();
            String problem;
            try {
                problem = prepare(s);
            } catch (RuntimeException e) {
                // One request's bad input must not fail the replica (and crash-loop the job on restore).
                problem = "cannot prepare the request: " + e.getMessage();
            }
            if (problem != null) {
                byId.remove(s.request.id());
                listener.onResult(GenerationResult.error(s.request.id(), problem,
                        Sequence.millisBetween(s.submittedNanos, System.nanoTime())));
                slot--; // the slot is still free
                continue;
            }
            s.slot = slot;
            bySlot[slot] = s;
            running.put(s.request.id(), s);
        }
    }

    /** Tokenizes and checks a request; returns why it cannot run, or null. */
    private String prepare(Sequence s) {
        GenerationRequest r = s.request;
        if (tokenizer == null && (r.prompt() != null || r.target() != null || !r.params().stop().isEmpty())) {
            return "this replica has no tokenizer: send prompt_token_ids (and no target or stop strings)";
        }
        int[] prompt = r.promptTokenIds() != null ? r.promptTokenIds() : tokenizer.encode(r.prompt(), true, false);
        int[] target = null;
        if (r.target() != null) {
            int[][] split = splitForScoring(r, prompt);
            prompt = split[0];
            target = split[1];
        }
        if (prompt.length == 0) {
            return "the prompt is empty";
        }
        for (int token : prompt) {
            if (token < 0 || token >= model.vocabularySize()) {
                return "prompt token id " + token + " is outside the vocabulary [0, " + model.vocabularySize() + ")";
            }
        }
        for (int token : prompt) {
            s.append(token);
        }
        s.promptLength = prompt.length;
        if (target != null) {
            if (target.length == 0) {
                return "the target is empty";
            }
            for (int token : target) {
                s.append(token);
            }
            s.scoring = true;
            if (s.length - 1 > positions) {
                return "prompt and target have " + s.length + " tokens but the context holds " + (positions + 1);
            }
            return null;
        }
        if (prompt.length > positions) {
            return "the prompt has " + prompt.length + " tokens but the context holds " + positions;
        }
        long state = RandomStream.initialState(r.params().seed());
        if (s.resumeFrom != null) {
            for (int token : s.resumeFrom.generatedTokens()) {
                s.addGenerated(token);
            }
            state = s.resumeFrom.rngState();
            if (s.length > positions) {
                // Restored into a replica with a smaller context (e.g. a changed --kv-budget).
                return "resumed with " + s.length + " tokens but the context now holds " + positions;
            }
        }
        s.random = new RandomStream(state);
        s.sampler = Sampler.forParams(r.params(), s.random);
        return null;
    }

    /**
     * Scoring scores the target as the tokenizer would split prompt + target together, so that a merge
     * across the boundary does not invent an unlikely token sequence: the target's tokens are those of the
     * joint text past its longest common prefix with the prompt's tokens. With prompt token ids, the target
     * is encoded on its own (with the tokenizer's leading-space convention).
     */
    private int[][] splitForScoring(GenerationRequest r, int[] prompt) {
        if (r.prompt() == null) {
            return new int[][] {prompt, tokenizer.encode(r.target(), false, false)};
        }
        int[] joint = tokenizer.encode(r.prompt() + r.target(), true, false);
        int common = 0;
        while (common < prompt.length && common < joint.length - 1 && prompt[common] == joint[common]) {
            common++;
        }
        return new int[][] {java.util.Arrays.copyOf(joint, common),
                java.util.Arrays.copyOfRange(joint, common, joint.length)};
    }

    private StepBatch planStep() {
        int budget = config.maxStepTokens();
        int[] slots = new int[budget];
        int[] positionsOf = new int[budget];
        int[] tokens = new int[budget];
        boolean[] wantLogits = new boolean[budget];
        int rows = 0;
        // decoding sequences first: one row each, every step
        for (Sequence s : running.values()) {
            if (s.pending() == 1) {
                rows = addRows(s, 1, rows, slots, positionsOf, tokens, wantLogits);
            }
        }
        // then prefill chunks, oldest first, within what is left of the budget
        for (Sequence s : running.values()) {
            if (rows == budget) {
                break;
            }
            if (s.pending() > 1) {
                rows = addRows(s, Math.min(s.pending(), budget - rows), rows, slots, positionsOf, tokens, wantLogits);
            }
        }
        lastStepRows = rows;
        return new StepBatch(java.util.Arrays.copyOf(slots, rows), java.util.Arrays.copyOf(positionsOf, rows),
                java.util.Arrays.copyOf(tokens, rows), java.util.Arrays.copyOf(wantLogits, rows));
    }

    private static int addRows(Sequence s, int count, int rows, int[] slots, int[] positions, int[] tokens,
                               boolean[] wantLogits) {
        for (int i = 0; i < count; i++) {
            int position = s.computed + i;
            slots[rows] = s.slot;
            positions[rows] = position;
            tokens[rows] = s.tokens[position];
            wantLogits[rows] = s.wantsLogits(position);
            rows++;
        }
        return rows;
    }

    /** Takes a step's logits: advances each sequence, samples, and finishes those that stop. */
    private void absorb(StepBatch batch, float[] logits) {
        long now = System.nanoTime();
        int vocab = model.vocabularySize();
        Sampled sampled = sampleAll(batch, logits);
        int logitRow = 0;
        int newPromptRows = 0;
        for (int r = 0; r < batch.rows(); r++) {
            Sequence s = bySlot[batch.slots()[r]];
            int position = batch.positions()[r];
            if (s.firstComputedNanos == 0) {
                s.firstComputedNanos = now;
            }
            s.computed = position + 1;
            if (position < s.promptLength) {
                newPromptRows++;
            }
            if (!batch.wantLogits()[r]) {
                continue;
            }
            int offset = logitRow * vocab;
            logitRow++;
            if (s.scoring) {
                float logprob = Sampler.logProbability(logits, offset, vocab, s.tokens[position + 1]);
                s.addLogprob(logprob);
                s.score += logprob;
                continue;
            }
            if (position < s.length - 1) {
                // Re-prefill after a restore: the logits of a token generated before the checkpoint,
                // bitwise as the first time (batch invariance).
                s.addLogprob(Sampler.logProbability(logits, offset, vocab, s.tokens[position + 1]));
                continue;
            }
            if (sampled.errors[offset / vocab] != null) {
                fail(s, "sampling failed: " + sampled.errors[offset / vocab].getMessage(), now);
                continue;
            }
            int token = sampled.tokens[offset / vocab];
            if (s.firstTokenNanos == 0) {
                s.firstTokenNanos = now;
            }
            if (model.isEos(token)) {
                finish(s, GenerationResult.FinishReason.STOP, null, now);
                continue;
            }
            if (s.request.params().logprobs()) {
                s.addLogprob(sampled.logprobs[offset / vocab]);
            }
            s.addGenerated(token);
            generatedTokens.incrementAndGet();
            String text = s.request.params().stop().isEmpty() ? null : decode(s);
            int stopAt = text == null ? -1 : firstStop(text, s.request.params().stop());
            if (stopAt >= 0) {
                finish(s, GenerationResult.FinishReason.STOP, text.substring(0, stopAt), now);
            } else if (s.generatedCount >= s.request.params().maxTokens() || s.length > positions) {
                // Out of tokens, or the new token has no position left to be fed at.
                finish(s, GenerationResult.FinishReason.LENGTH, text, now);
            }
        }
        promptTokens.addAndGet(newPromptRows);
        for (Sequence s : List.copyOf(running.values())) {
            if (s.scoring && s.pending() == 0) {
                finish(s, GenerationResult.FinishReason.STOP, "", now);
            }
        }
    }

    /** The next token (and its logprob) of every sequence that samples this step, by logit row. */
    private record Sampled(int[] tokens, float[] logprobs, RuntimeException[] errors) {}

    /**
     * Samples every generating sequence's next token. Sequences own their samplers and random streams, so
     * they are sampled in parallel on the replica's sampling threads (the ranks wait between steps
     * anyway): a softmax over a 32,000-token vocabulary per sequence is too much for the driver alone at
     * large batches. The tokens do not depend on the split.
     */
    private Sampled sampleAll(StepBatch batch, float[] logits) {
        int vocab = model.vocabularySize();
        int logitRows = batch.logitRows();
        Sampled out = new Sampled(new int[logitRows], new float[logitRows], new RuntimeException[logitRows]);
        List<int[]> work = new java.util.ArrayList<>(); // (logit row, slot)
        int logitRow = 0;
        for (int r = 0; r < batch.rows(); r++) {
            if (!batch.wantLogits()[r]) {
                continue;
            }
            Sequence s = bySlot[batch.slots()[r]];
            if (!s.scoring && batch.positions()[r] == s.length - 1) {
                work.add(new int[] {logitRow, batch.slots()[r]});
            }
            logitRow++;
        }
        java.util.function.IntConsumer sampleOne = i -> {
            int row = work.get(i)[0];
            Sequence s = bySlot[work.get(i)[1]];
            try {
                int token = s.sampler.sample(logits, row * vocab, vocab);
                out.tokens[row] = token;
                if (s.request.params().logprobs()) {
                    out.logprobs[row] = Sampler.logProbability(logits, row * vocab, vocab, token);
                }
            } catch (RuntimeException e) {
                out.errors[row] = e;
            }
        };
        int parts = samplingThreads == null ? 1 : Math.min(work.size() / 4 + 1, samplingParallelism + 1);
        if (parts <= 1) {
            for (int i = 0; i < work.size(); i++) {
                sampleOne.accept(i);
            }
            return out;
        }
        List<java.util.concurrent.Future<?>> helpers = new java.util.ArrayList<>();
        for (int p = 1; p < parts; p++) {
            int part = p;
            helpers.add(samplingThreads.submit(() -> {
                for (int i = work.size() * part / parts; i < work.size() * (part + 1) / parts; i++) {
                    sampleOne.accept(i);
                }
            }));
        }
        for (int i = 0; i < work.size() / parts; i++) {
            sampleOne.accept(i);
        }
        for (java.util.concurrent.Future<?> helper : helpers) {
            try {
                helper.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while sampling", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("sampling thread failed", e.getCause());
            }
        }
        return out;
    }

    private String decode(Sequence s) {
        if (tokenizer == null) {
            return "";
        }
        return tokenizer.decode(s.generatedTokens(), s.tokens[s.promptLength - 1]);
    }

    private static int firstStop(String text, List<String> stops) {
        int first = -1;
        for (String stop : stops) {
            int at = text.indexOf(stop);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }

    /**
     * Completes a sequence and reports it, under the lock: {@link #progress} stops seeing the request in the
     * same critical section in which the listener receives its result, so a checkpoint always finds it in
     * one place or the other.
     */
    private void finish(Sequence s, GenerationResult.FinishReason reason, String text, long now) {
        release(s);
        String completion = text != null ? text : decode(s);
        float[] logprobs = s.logprobs == null ? null : java.util.Arrays.copyOf(s.logprobs, s.logprobCount);
        listener.onResult(new GenerationResult(s.request.id(), true, reason, null, completion,
                java.util.Arrays.copyOf(s.tokens, s.promptLength), s.generatedTokens(), logprobs,
                s.scoring ? s.score : null,
                Sequence.millisBetween(s.submittedNanos, s.firstComputedNanos),
                Sequence.millisBetween(s.submittedNanos, s.scoring ? now : s.firstTokenNanos),
                Sequence.millisBetween(s.submittedNanos, now)));
    }

    /** Frees a running sequence's slot and forgets it. */
    private void release(Sequence s) {
        running.remove(s.request.id());
        byId.remove(s.request.id());
        bySlot[s.slot] = null;
    }

    /** Ends one sequence with an error result; the replica and the other sequences go on. */
    private void fail(Sequence s, String message, long now) {
        release(s);
        listener.onResult(GenerationResult.error(s.request.id(), message, Sequence.millisBetween(s.submittedNanos, now)));
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
        if (samplingThreads != null) {
            samplingThreads.shutdownNow();
        }
        checkpoint.close();
    }
}
