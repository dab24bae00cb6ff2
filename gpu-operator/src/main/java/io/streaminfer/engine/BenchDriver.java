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
    /** Warm-up before timing, at least: the Vector API's JIT needs about 2 s to settle. */
    static final long WARMUP_NANOS = 2_000_000_000L;
    /** The warm-up goes on, up to this many times {@link #WARMUP_NANOS}, until the decode rate is steady. */
    static final int MAX_WARMUP_FACTOR = 5;
    /** Two consecutive warm-up windows within this share of each other count as steady. */
    static final double STEADY = 0.03;
    static final int WARMUP_PREFILLS = 2;
    /**
     * Timed prefills and decode rounds: at least 3, and more (up to 15) until they have lasted a second; each
     * figure is their median. A batch-1 prefill of 128 tokens lasts about 12 ms, and a JIT compilation on the
     * other core halves it: three of them gave 5,000 to 12,000 tok/s from one run to the next.
     */
    static final int MIN_TIMED_ROUNDS = 3;
    static final int MAX_TIMED_ROUNDS = 15;
    static final double MIN_TIMED_SECONDS = 1.0;

    /**
     * Tokens per second, and the stages' link waits and busy time (per stage, see
     * {@link StepExecutor#stageBusyNanos}) within one median decode round.
     */
    record Figures(double decodeTokensPerSecond, double prefillTokensPerSecond, double decodeSeconds,
                   long decodeStageWaitNanos, long[] decodeStageBusyNanos) {}

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

    /**
     * Warms up until steady, then times prefills and decode rounds of {@code steps} steps, and gives the median
     * of each (see {@link #MIN_TIMED_ROUNDS}). A single timed pass measured the JIT as much as the kernels:
     * the first kind of a run came out at 55-75% of its steady rate.
     */
    Figures run(int steps, int warmup) {
        long warmupEnd = System.nanoTime() + warmupNanos;
        for (int i = 0; i < WARMUP_PREFILLS || System.nanoTime() < warmupEnd - warmupNanos / 2; i++) {
            prefill();  // warm-up: JIT, caches; overwritten below
        }
        // Decode warm-up, cycling over the positions the timed run uses (their K/V are rewritten before they are
        // read again), until the time is up and two consecutive windows ran within STEADY of each other.
        long hardEnd = System.nanoTime() + MAX_WARMUP_FACTOR * warmupNanos;
        double previous = 0;
        for (int done = 0; ; ) {
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++, done++) {
                decode(prompt + done % steps);
            }
            drain();
            double rate = steps / ((System.nanoTime() - start) / 1e9);
            boolean steady = previous > 0 && Math.abs(rate - previous) <= STEADY * previous;
            long now = System.nanoTime();
            if (done >= warmup && now >= warmupEnd && (steady || now >= hardEnd)) {
                break;
            }
            previous = rate;
        }
        double[] prefills = new double[MAX_TIMED_ROUNDS];
        int prefillRounds = 0;
        for (double total = 0; prefillRounds < MIN_TIMED_ROUNDS
                || (prefillRounds < MAX_TIMED_ROUNDS && total < MIN_TIMED_SECONDS); prefillRounds++) {
            long start = System.nanoTime();
            prefill();
            prefills[prefillRounds] = (System.nanoTime() - start) / 1e9;
            total += prefills[prefillRounds];
        }
        double[] rounds = new double[MAX_TIMED_ROUNDS];
        long waitBefore = executor.stageWaitNanos();
        long[] busyBefore = executor.stageBusyNanos();
        double decodeTotal = 0;
        int decodeRounds = 0;
        for (; decodeRounds < MIN_TIMED_ROUNDS || (decodeRounds < MAX_TIMED_ROUNDS && decodeTotal < MIN_TIMED_SECONDS);
             decodeRounds++) {
            Arrays.fill(next, 1);
            long start = System.nanoTime();
            for (int step = 0; step < steps; step++) {
                decode(prompt + step);
            }
            drain();
            rounds[decodeRounds] = (System.nanoTime() - start) / 1e9;
            decodeTotal += rounds[decodeRounds];
        }
        long wait = executor.stageWaitNanos() - waitBefore;
        long[] busy = executor.stageBusyNanos();
        double decodeSeconds = median(Arrays.copyOf(rounds, decodeRounds));
        double perRound = decodeSeconds / decodeTotal; // totals over every timed round, scaled to the median one
        for (int s = 0; s < busy.length; s++) {
            busy[s] = (long) ((busy[s] - busyBefore[s]) * perRound);
        }
        return new Figures((double) batch * steps / decodeSeconds, batch * (double) prompt / median(Arrays.copyOf(prefills, prefillRounds)),
                decodeSeconds, (long) (wait * perRound), busy);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
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
