package io.streaminfer.engine;

import io.streaminfer.comm.CommGroup;
import io.streaminfer.comm.Communicator;
import io.streaminfer.compute.StepBatch;
import io.streaminfer.model.ModelShard;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tensor-parallel worker group of one replica: N rank threads, each with its own shard, compute
 * backend, communicator and KV-cache shard.
 *
 * <p>Rank 0 is the driver: after every shard has loaded it runs the replica's {@link Driver} on its own
 * thread. Each {@link #step} hands the step's {@link StepBatch} to ranks 1..N-1 through one in-process
 * queue per rank (the batch is immutable, so handing over the reference is the broadcast), then runs rank
 * 0's own shard. The ranks meet in the collectives of the forward pass, which also keeps them in step.
 *
 * <p>Failure: a rank that throws fails the comm group, so its peers fail fast inside their next
 * collective; the group then stops every rank and reports the first cause. Nothing waits unboundedly:
 * queue waits and collectives both time out.
 */
public final class TensorParallelGroup implements StepExecutor {

    /** Loads rank {@code rank}'s shard, on that rank's thread. */
    @FunctionalInterface
    public interface ShardLoader {
        ModelShard load(int rank, Communicator communicator) throws Exception;
    }

    /** The scheduler loop, run on rank 0's thread once the group is up; returns when the replica stops. */
    @FunctionalInterface
    public interface Driver {
        void run(TensorParallelGroup group) throws Exception;
    }

    /** Receives the cause when the group fails (on a rank thread). */
    @FunctionalInterface
    public interface FailureHandler {
        void onFailure(Throwable cause);
    }

    private static final Logger LOG = LoggerFactory.getLogger(TensorParallelGroup.class);
    private static final StepBatch STOP = new StepBatch(new int[0], new int[0], new int[0], new boolean[0]);

    private final String name;
    private final CommGroup communicators;
    private final ModelShard[] shards;
    private final BlockingQueue<StepBatch>[] inboxes;
    private final Thread[] threads;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch loaded;
    private final CountDownLatch started = new CountDownLatch(1);
    private final FailureHandler failureHandler;
    private volatile boolean stopping;
    private int submitted; // steps run by submit() and not yet awaited (the driver's only)

    @SuppressWarnings("unchecked")
    private TensorParallelGroup(CommGroup communicators, FailureHandler failureHandler) {
        this.name = communicators.name();
        this.communicators = communicators;
        int size = communicators.size();
        this.shards = new ModelShard[size];
        this.inboxes = new BlockingQueue[size];
        for (int r = 1; r < size; r++) {
            inboxes[r] = new LinkedBlockingQueue<>();
        }
        this.threads = new Thread[size];
        this.loaded = new CountDownLatch(size);
        this.failureHandler = failureHandler;
    }

    /**
     * Starts the rank threads, waits until every rank has loaded its shard, then lets rank 0 run the
     * driver. Throws with the first rank's cause if loading fails or exceeds {@code startTimeout}.
     */
    public static TensorParallelGroup start(CommGroup communicators, ShardLoader loader, Driver driver,
                                            FailureHandler failureHandler, Duration startTimeout) throws Exception {
        TensorParallelGroup group = new TensorParallelGroup(communicators, failureHandler);
        String name = group.name;
        for (int r = 0; r < communicators.size(); r++) {
            int rank = r;
            Thread t = new Thread(() -> group.runRank(rank, loader, driver), name + "-rank-" + r);
            t.setDaemon(true);
            group.threads[r] = t;
        }
        for (Thread t : group.threads) {
            t.start();
        }
        boolean ok = group.loaded.await(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
        Throwable cause = group.failure.get();
        if (!ok || cause != null) {
            group.close();
            if (cause instanceof Exception e) {
                throw new IllegalStateException("group " + name + " failed to start: " + e.getMessage(), e);
            }
            if (cause != null) {
                throw new IllegalStateException("group " + name + " failed to start", cause);
            }
            throw new IllegalStateException("group " + name + " did not load within " + startTimeout);
        }
        group.started.countDown();
        return group;
    }

    private void runRank(int rank, ShardLoader loader, Driver driver) {
        Communicator communicator = communicators.communicator(rank);
        try {
            shards[rank] = loader.load(rank, communicator);
            loaded.countDown();
            started.await();
            if (stopping) {
                return;
            }
            if (rank == 0) {
                driver.run(this);
            } else {
                work(rank);
            }
        } catch (Throwable t) {
            fail(rank, t);
        } finally {
            if (rank == 0) {
                // The driver is done (stopped or failed): release the workers.
                stopping = true;
                for (int r = 1; r < inboxes.length; r++) {
                    inboxes[r].offer(STOP);
                }
            }
            loaded.countDown(); // never leave start() waiting on a rank that died while loading
        }
    }

    private void work(int rank) throws InterruptedException {
        ModelShard shard = shards[rank];
        while (!stopping) {
            StepBatch batch = inboxes[rank].poll(100, TimeUnit.MILLISECONDS);
            if (batch == null) {
                continue;
            }
            if (batch == STOP) {
                return;
            }
            // Ranks > 0 take part in the logits gather but keep no rows: only the driver samples.
            shard.forward(batch, null);
        }
    }

    private void fail(int rank, Throwable t) {
        // Keep the first cause: peers failing because this rank left are consequences, not causes.
        if (failure.compareAndSet(null, new RankFailure(name, rank, t))) {
            if (!stopping && started.getCount() == 0 && failureHandler != null) {
                failureHandler.onFailure(failure.get());
            }
        }
        stopping = true;
        communicators.fail(rank, t);
        for (int r = 1; r < inboxes.length; r++) {
            inboxes[r].offer(STOP);
        }
    }

    /**
     * Runs one forward step on every rank. Called only by the driver, on rank 0's thread. Fills
     * {@code logits} (logitRows, vocab) for the rows that want them.
     */
    public void step(StepBatch batch, float[] logits) {
        if (Thread.currentThread() != threads[0]) {
            throw new IllegalStateException("step() is for the driver thread of " + name);
        }
        Throwable cause = failure.get();
        if (cause != null) {
            throw new IllegalStateException("group " + name + " has failed", cause);
        }
        if (stopping) {
            throw new IllegalStateException("group " + name + " is stopping");
        }
        for (int r = 1; r < inboxes.length; r++) {
            inboxes[r].add(batch);
        }
        shards[0].forward(batch, logits);
    }

    /** One step at a time: {@link #submit} runs it to the end. */
    @Override
    public int depth() {
        return 1;
    }

    @Override
    public void submit(StepBatch batch, float[] logits) {
        if (submitted > 0) {
            throw new IllegalStateException("group " + name + " runs one step at a time; await it first");
        }
        step(batch, logits);
        submitted++;
    }

    @Override
    public void awaitOldest() {
        if (submitted == 0) {
            throw new IllegalStateException("group " + name + " has no step in flight");
        }
        submitted--;
    }

    @Override
    public int inFlight() {
        return submitted;
    }

    public ModelShard driverShard() {
        return shards[0];
    }

    public int size() {
        return communicators.size();
    }

    public String name() {
        return name;
    }

    /** The first failure of any rank, or null. */
    @Override
    public Throwable failure() {
        return failure.get();
    }

    /**
     * Stops every rank, waits for the threads to end and releases shards and communicators. The
     * communicators close first, so a rank blocked in a collective (say, on a step a worker will never
     * take) fails at once instead of waiting out the collective timeout.
     */
    @Override
    public void close() {
        stopping = true;
        started.countDown();
        communicators.close();
        for (int r = 1; r < inboxes.length; r++) {
            inboxes[r].offer(STOP);
        }
        for (int r = 0; r < threads.length; r++) {
            Thread t = threads[r];
            if (t != null && t != Thread.currentThread()) {
                try {
                    t.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        for (int r = 0; r < shards.length; r++) {
            Thread t = threads[r];
            if (shards[r] == null) {
                continue;
            }
            if (t != null && t.isAlive() && t != Thread.currentThread()) {
                // Freeing its native weights under a live thread could crash the JVM; leak them instead.
                LOG.warn("rank {} of {} did not stop within 10 s; its shard is not released", r, name);
                continue;
            }
            shards[r].close();
        }
    }

    /** Which rank of which group failed, with the cause. */
    public static final class RankFailure extends RuntimeException {
        RankFailure(String group, int rank, Throwable cause) {
            super("rank " + rank + " of group " + group + " failed: " + cause, cause);
        }
    }
}
