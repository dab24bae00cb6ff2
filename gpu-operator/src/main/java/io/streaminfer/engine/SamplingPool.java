package io.streaminfer.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * The replica's own sampling threads (never a shared pool: one TaskManager hosts several replicas). The
 * driver hands it a step's independent sampling jobs and takes the first share itself; helpers take the
 * rest. A softmax over a 32,000-token vocabulary per sequence is too much for the driver alone at large
 * batches, and the ranks wait between steps anyway. Jobs own their sequences, so nothing they compute
 * depends on the split.
 */
final class SamplingPool implements AutoCloseable {
    /** Jobs per extra thread below which a helper is not worth waking. */
    private static final int JOBS_PER_PART = 4;

    private final ExecutorService helpers; // null when the driver samples alone
    private final int helperCount;

    /**
     * @param name the threads' name ({@code tp:<replica>-sampler})
     * @param helperCount threads besides the driver; 0 makes the driver sample alone
     */
    SamplingPool(String name, int helperCount) {
        this.helperCount = Math.max(0, helperCount);
        this.helpers = this.helperCount == 0 ? null : Executors.newFixedThreadPool(this.helperCount, runnable -> {
            Thread t = new Thread(runnable, name);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Runs {@code job.accept(i)} for every i in [0, count), the driver's share on the calling thread, and
     * returns once all are done. Jobs catch their own failures; a helper thread that breaks (or an
     * interrupt) fails the call.
     */
    void run(int count, IntConsumer job) {
        int parts = helpers == null ? 1 : Math.min(count / JOBS_PER_PART + 1, helperCount + 1);
        if (parts <= 1) {
            for (int i = 0; i < count; i++) {
                job.accept(i);
            }
            return;
        }
        List<Future<?>> started = new ArrayList<>();
        for (int p = 1; p < parts; p++) {
            int from = count * p / parts;
            int to = count * (p + 1) / parts;
            started.add(helpers.submit(() -> {
                for (int i = from; i < to; i++) {
                    job.accept(i);
                }
            }));
        }
        for (int i = 0; i < count / parts; i++) {
            job.accept(i);
        }
        for (Future<?> helper : started) {
            try {
                helper.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while sampling", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("sampling thread failed", e.getCause());
            }
        }
    }

    @Override
    public void close() {
        if (helpers != null) {
            helpers.shutdownNow();
        }
    }
}
