package io.streaminfer.engine;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A replica used synchronously: submits requests (waiting while the admission queue is full) and blocks
 * until all their results are in. For the CLI's {@code generate}, benchmarks and tests.
 */
public final class BlockingReplica implements AutoCloseable, InferenceReplica.Listener {
    private final Map<String, GenerationResult> results = new ConcurrentHashMap<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile CountDownLatch pending = new CountDownLatch(0);
    private final LocalReplica replica;
    private final Duration timeout;

    /** Starts a replica; each {@link #run} waits at most {@code timeout} for its results. */
    public BlockingReplica(ReplicaConfig config, Duration timeout) throws Exception {
        this.replica = LocalReplica.start(config, 0, this);
        this.timeout = timeout;
    }

    public LocalReplica replica() {
        return replica;
    }

    /** Submits all requests (waiting while the queue is full) and returns their results by id. */
    public Map<String, GenerationResult> run(List<GenerationRequest> requests) throws InterruptedException {
        return run(requests, Map.of());
    }

    /** As {@link #run(List)}, resuming the requests that have an entry in {@code resume}. */
    public Map<String, GenerationResult> run(List<GenerationRequest> requests, Map<String, RequestProgress> resume)
            throws InterruptedException {
        pending = new CountDownLatch(requests.size());
        for (GenerationRequest r : requests) {
            while (!replica.trySubmit(r, resume.get(r.id()))) {
                Thread.sleep(1);
            }
        }
        if (!pending.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("results did not arrive within " + timeout, failure.get());
        }
        if (failure.get() != null) {
            throw new IllegalStateException("replica failed: " + failure.get().getMessage(), failure.get());
        }
        Map<String, GenerationResult> out = new ConcurrentHashMap<>();
        for (GenerationRequest r : requests) {
            out.put(r.id(), results.remove(r.id()));
        }
        return out;
    }

    public GenerationResult runOne(GenerationRequest request) throws InterruptedException {
        return run(List.of(request)).get(request.id());
    }

    @Override
    public void onResult(GenerationResult result) {
        results.put(result.id(), result);
        pending.countDown();
    }

    @Override
    public void onFailure(Throwable cause) {
        failure.compareAndSet(null, cause);
        CountDownLatch latch = pending;
        while (latch.getCount() > 0) {
            latch.countDown();
        }
    }

    @Override
    public void close() {
        replica.close();
    }
}
