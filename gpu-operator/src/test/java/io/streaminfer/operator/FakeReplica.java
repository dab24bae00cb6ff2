package io.streaminfer.operator;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.InferenceReplica;
import io.streaminfer.engine.RequestProgress;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic stand-in for the engine, for tests of the operator alone: each step gives every running
 * request one token drawn from its own random stream (seeded by the request), so resuming from a progress
 * continues the exact sequence. Stepped by the test, or by its own daemon thread after {@link #startDriving()}.
 *
 * <p>The committed savepoint fixtures ({@code src/test/resources/savepoints}) hold tokens and random states
 * of this stream: changing {@link #INITIAL_STATE_MIX}, {@link #next}, {@link #token} or {@link #logprob}
 * makes them disagree with the tests that restore them.
 *
 * <p>At most {@code runningSlots} requests run at a time, in admission order; the rest wait with an empty
 * progress, as a real replica's waiting queue does. A request with a target is scored in one step: one
 * log-probability per character of the target.
 */
final class FakeReplica implements InferenceReplica {
    static final String MODEL = "fake-model";
    static final int TP_SIZE = 2;
    static final long INITIAL_STATE_MIX = 0x9E3779B97F4A7C15L;

    private final int capacity;
    private final int runningSlots;
    private final Listener listener;
    private final Map<String, Active> active = new LinkedHashMap<>(); // guarded by this; admission order
    final List<String> admitted = new CopyOnWriteArrayList<>();
    final Map<String, GenerationRequest> admittedRequests = new LinkedHashMap<>(); // guarded by this
    final Map<String, Integer> resumedAt = new HashMap<>(); // guarded by this
    final Map<String, RequestProgress> resumedFrom = new LinkedHashMap<>(); // guarded by this
    private final Set<String> progressHidden = new HashSet<>(); // guarded by this
    final AtomicInteger rejectedSubmits = new AtomicInteger();
    final AtomicInteger maxActive = new AtomicInteger();
    private volatile boolean closed;
    /** When set, the driver thread does not step until some submit has been refused. */
    volatile boolean holdStepsUntilRefused;
    private Thread driver;

    private static final class Active {
        final GenerationRequest request;
        final List<Integer> tokens;
        long rng;

        Active(GenerationRequest request, List<Integer> tokens, long rng) {
            this.request = request;
            this.tokens = tokens;
            this.rng = rng;
        }
    }

    FakeReplica(int capacity, Listener listener) {
        this(capacity, Integer.MAX_VALUE, listener);
    }

    FakeReplica(int capacity, int runningSlots, Listener listener) {
        this.capacity = capacity;
        this.runningSlots = runningSlots;
        this.listener = listener;
    }

    // ---- the deterministic stream ----

    static long initialState(GenerationRequest request) {
        return request.params().seed() ^ INITIAL_STATE_MIX;
    }

    static long next(long rng) {
        return rng * 6364136223846793005L + 1442695040888963407L;
    }

    static int token(long rng) {
        return (int) ((rng >>> 33) % 512);
    }

    static float logprob(int token) {
        return -((token % 13) + 1) / 8f;
    }

    /** What this replica's progress of {@code request} is after {@code steps} steps of running. */
    static RequestProgress progressAfter(GenerationRequest request, int steps) {
        int[] tokens = new int[steps];
        long rng = initialState(request);
        for (int i = 0; i < steps; i++) {
            rng = next(rng);
            tokens[i] = token(rng);
        }
        return new RequestProgress(tokens, rng);
    }

    /** The result this replica gives {@code request}, however often it was interrupted and resumed. */
    static GenerationResult resultOf(GenerationRequest request) {
        int[] prompt = promptIds(request);
        if (request.target() != null) {
            float[] logprobs = new float[request.target().length()];
            double score = 0;
            for (int i = 0; i < logprobs.length; i++) {
                logprobs[i] = logprob(request.target().charAt(i));
                score += logprobs[i];
            }
            return new GenerationResult(request.id(), true, GenerationResult.FinishReason.STOP, null, "", prompt,
                    new int[0], logprobs, score, 0, 1, 2);
        }
        int[] tokens = progressAfter(request, request.params().maxTokens()).generatedTokens();
        float[] logprobs = null;
        if (request.params().logprobs()) {
            logprobs = new float[tokens.length];
            for (int i = 0; i < tokens.length; i++) {
                logprobs[i] = logprob(tokens[i]);
            }
        }
        StringBuilder text = new StringBuilder();
        for (int t : tokens) {
            text.append(' ').append(t);
        }
        return new GenerationResult(request.id(), true, GenerationResult.FinishReason.LENGTH, null, text.toString(),
                prompt, tokens, logprobs, null, 0, 1, 2);
    }

    private static int[] promptIds(GenerationRequest request) {
        if (request.promptTokenIds() != null) {
            return request.promptTokenIds();
        }
        int[] ids = new int[request.prompt().length() + 1];
        ids[0] = 1;
        for (int i = 0; i < request.prompt().length(); i++) {
            ids[i + 1] = request.prompt().charAt(i) % 512;
        }
        return ids;
    }

    // ---- driving ----

    void startDriving() {
        driver = new Thread(() -> {
            while (!closed) {
                boolean held = holdStepsUntilRefused && rejectedSubmits.get() == 0;
                if (held || step() == 0) {
                    synchronized (this) {
                        try {
                            if ((held || active.isEmpty()) && !closed) {
                                wait(5);
                            }
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
            }
        }, "fake-replica-driver");
        driver.setDaemon(true);
        driver.start();
    }

    /** One decode step for every running request; returns how many requests advanced. */
    int step() {
        List<GenerationResult> done = new ArrayList<>();
        int advanced = 0;
        synchronized (this) {
            var it = active.values().iterator();
            while (it.hasNext() && advanced < runningSlots) {
                Active a = it.next();
                advanced++;
                if (a.request.target() == null) {
                    a.rng = next(a.rng);
                    a.tokens.add(token(a.rng));
                }
                if (a.request.target() != null || a.tokens.size() >= a.request.params().maxTokens()) {
                    it.remove();
                    done.add(resultOf(a.request));
                }
            }
        }
        done.forEach(listener::onResult); // outside the lock, as a real replica would
        return advanced;
    }

    /**
     * From now on {@link #progress} answers null for {@code id}, as a real replica does between dropping a
     * finished request's progress and reporting its result.
     */
    synchronized void hideProgress(String id) {
        progressHidden.add(id);
    }

    void fail(Throwable cause) {
        listener.onFailure(cause);
    }

    // ---- InferenceReplica ----

    @Override
    public synchronized boolean trySubmit(GenerationRequest request, RequestProgress resumeFrom) {
        if (active.size() >= capacity) {
            rejectedSubmits.incrementAndGet();
            return false;
        }
        List<Integer> tokens = new ArrayList<>();
        long rng = initialState(request);
        if (resumeFrom != null) {
            Arrays.stream(resumeFrom.generatedTokens()).forEach(tokens::add);
            rng = resumeFrom.rngState();
            resumedAt.put(request.id(), tokens.size());
            resumedFrom.put(request.id(), resumeFrom);
        }
        active.put(request.id(), new Active(request, tokens, rng));
        admitted.add(request.id());
        admittedRequests.put(request.id(), request);
        maxActive.accumulateAndGet(active.size(), Math::max);
        notifyAll();
        return true;
    }

    @Override
    public synchronized RequestProgress progress(String id) {
        Active a = active.get(id);
        if (a == null || progressHidden.contains(id)) {
            return null;
        }
        return new RequestProgress(a.tokens.stream().mapToInt(Integer::intValue).toArray(), a.rng);
    }

    @Override
    public synchronized int running() {
        return Math.min(active.size(), runningSlots);
    }

    @Override
    public synchronized int waiting() {
        return active.size() - running();
    }

    @Override
    public synchronized double batchOccupancy() {
        return running() / 8.0;
    }

    @Override
    public synchronized double kvCacheUsage() {
        return active.size() / (double) capacity;
    }

    @Override
    public String modelName() {
        return MODEL;
    }

    @Override
    public int tensorParallelSize() {
        return TP_SIZE;
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            notifyAll();
        }
    }
}
