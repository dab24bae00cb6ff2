package io.streaminfer.engine;

import io.streaminfer.compute.StepBatch;
import io.streaminfer.model.ModelConfig;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The benchmark's driver loop, on any {@link StepExecutor}: prefill every slot in chunks, then decode one
 * row per slot per step with greedy feedback. With a pipeline of depth d the slots split into d
 * micro-batches that take turns, so every stage has work; at depth 1 a step is the whole batch.
 */
final class BenchDriver {
    /** Decode warm-up before timing: the Vector API's JIT needs about 2 s to settle. */
    static final long WARMUP_NANOS = 2_000_000_000L;

    /** Tokens per second and the stages' wait while decoding. */
    record Figures(double decodeTokensPerSecond, double prefillTokensPerSecond, double decodeSeconds,
                   long decodeStageWaitNanos) {}

    private final StepExecutor executor;
    private final int vocabulary;
    private final int batch;
    private final int prompt;
    private final int maxRows;
    private final int groups;              // decode micro-batches
    private final float[][] logits;        // (depth, maxRows * vocab) one buffer per step in flight
    private final ArrayDeque<Integer> inFlight = new ArrayDeque<>(); // the buffer (decode: group) of each step
    private final int[] next;              // (batch) the token each slot feeds next
    private final long warmupNanos;

    BenchDriver(StepExecutor executor, ModelConfig config, int batch, int prompt, int maxRows) {
        this(executor, config, batch, prompt, maxRows, WARMUP_NANOS);
    }

    BenchDriver(StepExecutor executor, ModelConfig config, int batch, int prompt, int maxRows, long warmupNanos) {
        this.warmupNanos = warmupNanos;
        this.executor = executor;
        this.vocabulary = config.vocabularySize();
        this.batch = batch;
        this.prompt = prompt;
        this.maxRows = maxRows;
        this.groups = Math.min(executor.depth(), batch);
        this.logits = new float[Math.max(executor.depth(), groups)][maxRows * vocabulary];
        this.next = new int[batch];
    }

    /** Prefills once untimed, warms decode up, then times a prefill and {@code steps} decode steps. */
    Figures run(int steps, int warmup) {
        prefill();  // warm-up: JIT, caches; overwritten below
        // Decode warm-up until the JIT has settled, cycling over the positions the timed run uses: their
        // K/V are rewritten before they are read again.
        long warmupEnd = System.nanoTime() + warmupNanos;
        for (int step = 0; step < warmup || System.nanoTime() < warmupEnd; step++) {
            decode(prompt + step % steps);
        }
        drain();
        long prefillStart = System.nanoTime();
        prefill();
        double prefillSeconds = (System.nanoTime() - prefillStart) / 1e9;
        Arrays.fill(next, 1);
        long waitBefore = executor.stageWaitNanos();
        long decodeStart = System.nanoTime();
        for (int step = 0; step < steps; step++) {
            decode(prompt + step);
        }
        drain();
        double decodeSeconds = (System.nanoTime() - decodeStart) / 1e9;
        return new Figures((double) batch * steps / decodeSeconds, batch * (double) prompt / prefillSeconds,
                decodeSeconds, executor.stageWaitNanos() - waitBefore);
    }

    /** Prefills batch x prompt tokens in steps of at most maxRows rows, up to the depth in flight. */
    private void prefill() {
        int total = batch * prompt;
        int buffer = 0;
        for (int done = 0; done < total; ) {
            int rows = Math.min(maxRows, total - done);
            int[] slots = new int[rows];
            int[] positions = new int[rows];
            int[] tokens = new int[rows];
            boolean[] want = new boolean[rows];
            for (int i = 0; i < rows; i++) {
                int index = done + i;
                slots[i] = index / prompt;
                positions[i] = index % prompt;
                tokens[i] = 1 + (index * 31) % (vocabulary - 1);
                want[i] = positions[i] == prompt - 1;
            }
            if (inFlight.size() == executor.depth()) {
                executor.awaitOldest();
                inFlight.poll();
            }
            executor.submit(new StepBatch(slots, positions, tokens, want), logits[buffer]);
            inFlight.add(-1);
            buffer = (buffer + 1) % logits.length;
            done += rows;
        }
        while (!inFlight.isEmpty()) {
            executor.awaitOldest();
            inFlight.poll();
        }
    }

    /** One decode step of every micro-batch at {@code position}: each waits for its previous step's tokens. */
    private void decode(int position) {
        for (int g = 0; g < groups; g++) {
            while (inFlight.contains(g) || inFlight.size() == executor.depth()) {
                absorbOldest();
            }
            int from = g * batch / groups;
            int to = (g + 1) * batch / groups;
            int rows = to - from;
            int[] slots = new int[rows];
            int[] positions = new int[rows];
            boolean[] want = new boolean[rows];
            for (int r = 0; r < rows; r++) {
                slots[r] = from + r;
                positions[r] = position;
                want[r] = true;
            }
            executor.submit(new StepBatch(slots, positions, Arrays.copyOfRange(next, from, to), want), logits[g]);
            inFlight.add(g);
        }
    }

    private void drain() {
        while (!inFlight.isEmpty()) {
            absorbOldest();
        }
    }

    /** Awaits the oldest decode step and feeds its argmax tokens back to its slots. */
    private void absorbOldest() {
        executor.awaitOldest();
        int g = inFlight.poll();
        int from = g * batch / groups;
        int to = (g + 1) * batch / groups;
        for (int b = from; b < to; b++) {
            next[b] = Sampler.argmax(logits[g], (b - from) * vocabulary, vocabulary);
        }
    }
}
