package io.streaminfer.engine;

import io.streaminfer.comm.CommGroup;
import io.streaminfer.comm.Communicator;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.comm.StageLink;
import io.streaminfer.compute.StepBatch;
import io.streaminfer.model.ModelShard;
import io.streaminfer.model.StageSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline-parallel worker group of one replica: S stages x T tensor-parallel ranks, one thread per
 * rank (stage s's ranks form the TP group {@code tp:<replica>-pp<s>}), stage links from rank (s, r) to
 * (s+1, r), and a driver thread of its own.
 *
 * <p>The driver {@link #submit}s up to S steps (micro-batches of different sequences) before it
 * {@link #awaitOldest awaits} the oldest: every rank takes the steps from its own queue in submission
 * order, so while the last stage computes micro-batch k, the first already computes k+1 (vLLM's batch
 * queue). A stage that is not the first receives its rows' residual stream from the previous stage, one
 * that is not the last sends it on; only rank 0 of the last stage writes logits, into the step's own
 * buffer, and hands the step back.
 *
 * <p>Failure: a rank (or the driver) that throws fails every TP group and every link, so each peer
 * fails fast in its next collective or transfer; the group stops every thread and reports the first
 * cause. Nothing waits unboundedly: queue waits poll, collectives and transfers time out.
 */
public final class PipelineGroup implements StepExecutor {

    /** Loads rank {@code rank}'s shard of stage {@code stage}, on that rank's thread. */
    @FunctionalInterface
    public interface StageLoader {
        ModelShard load(StageSpec stage, int rank, Communicator communicator, StageLink inbound, StageLink outbound)
                throws Exception;
    }

    /** The scheduler loop, run on the driver thread once every shard has loaded. */
    @FunctionalInterface
    public interface Driver {
        void run(PipelineGroup pipeline) throws Exception;
    }

    private static final Logger LOG = LoggerFactory.getLogger(PipelineGroup.class);

    /** One submitted step: its rows and the buffer its logits go to. */
    private record Ticket(StepBatch batch, float[] logits) {}

    private static final Ticket STOP = new Ticket(null, null);

    private final String name;
    private final List<StageSpec> stages;
    private final int tp;
    private final List<CommGroup> groups = new ArrayList<>();       // (stages)
    private final List<StageLink> links = new ArrayList<>();        // ((stages - 1) * tp), (s, r) at s * tp + r
    private final ModelShard[][] shards;                            // (stages, tp)
    private final List<BlockingQueue<Ticket>> inboxes = new ArrayList<>(); // (stages * tp)
    private final BlockingQueue<Ticket> finished = new LinkedBlockingQueue<>();
    private final List<Thread> threads = new ArrayList<>();         // rank threads, then the driver
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLongArray busyNanos;                          // (stages * tp) see stageBusyNanos
    private final CountDownLatch loaded;
    private final CountDownLatch started = new CountDownLatch(1);
    private final TensorParallelGroup.FailureHandler failureHandler;
    private volatile boolean stopping;
    private Thread driverThread;
    private int inFlight; // the driver's only

    private PipelineGroup(String name, List<StageSpec> stages, int tp,
                          TensorParallelGroup.FailureHandler failureHandler) {
        this.name = name;
        this.stages = List.copyOf(stages);
        this.tp = tp;
        this.shards = new ModelShard[stages.size()][tp];
        this.loaded = new CountDownLatch(stages.size() * tp);
        this.busyNanos = new AtomicLongArray(stages.size() * tp);
        this.failureHandler = failureHandler;
    }

    /**
     * Forms the stages' TP groups and links, starts a thread per rank, waits until every rank has loaded
     * its shard, then starts the driver. Throws with the first rank's cause if loading fails or exceeds
     * {@code startTimeout}.
     *
     * @param linkCapacity micro-batches a stage may send ahead of the next (0: each send waits for the receiver)
     */
    public static PipelineGroup start(String replicaId, GroupCoordinator coordinator, List<StageSpec> stages, int tp,
                                      int linkCapacity, StageLoader loader, Driver driver,
                                      TensorParallelGroup.FailureHandler failureHandler, Duration startTimeout)
            throws Exception {
        PipelineGroup pipeline = new PipelineGroup("pp:" + replicaId, stages, tp, failureHandler);
        try {
            for (int s = 0; s < stages.size(); s++) {
                pipeline.groups.add(coordinator.form(replicaId + "-pp" + s, tp, s * tp));
            }
            for (int s = 0; s + 1 < stages.size(); s++) {
                for (int r = 0; r < tp; r++) {
                    pipeline.links.add(coordinator.formLink(replicaId, s, r, linkCapacity, s * tp + r, (s + 1) * tp + r));
                }
            }
        } catch (RuntimeException | Error e) {
            pipeline.close();
            throw e;
        }
        for (int s = 0; s < stages.size(); s++) {
            for (int r = 0; r < tp; r++) {
                int stage = s;
                int rank = r;
                pipeline.inboxes.add(new LinkedBlockingQueue<>());
                Thread t = new Thread(() -> pipeline.runRank(stage, rank, loader),
                        pipeline.groups.get(s).name() + "-rank-" + r);
                t.setDaemon(true);
                pipeline.threads.add(t);
            }
        }
        pipeline.threads.forEach(Thread::start);
        boolean ok = pipeline.loaded.await(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
        Throwable cause = pipeline.failure.get();
        if (!ok || cause != null) {
            pipeline.close();
            if (cause != null) {
                throw new IllegalStateException(pipeline.name + " failed to start: " + cause.getMessage(), cause);
            }
            throw new IllegalStateException(pipeline.name + " did not load within " + startTimeout);
        }
        pipeline.driverThread = new Thread(() -> pipeline.runDriver(driver), pipeline.name + "-driver");
        pipeline.driverThread.setDaemon(true);
        pipeline.threads.add(pipeline.driverThread);
        pipeline.started.countDown();
        pipeline.driverThread.start();
        return pipeline;
    }

    private int index(int stage, int rank) {
        return stage * tp + rank;
    }

    private void runRank(int stage, int rank, StageLoader loader) {
        CommGroup group = groups.get(stage);
        try {
            StageLink inbound = stage == 0 ? null : links.get(index(stage - 1, rank));
            StageLink outbound = stage == stages.size() - 1 ? null : links.get(index(stage, rank));
            shards[stage][rank] = loader.load(stages.get(stage), rank, group.communicator(rank), inbound, outbound);
            loaded.countDown();
            started.await();
            if (!stopping) {
                work(stage, rank, inbound, outbound);
            }
        } catch (Throwable t) {
            fail(group.name(), rank, t);
        } finally {
            loaded.countDown(); // never leave start() waiting on a rank that died while loading
        }
    }

    /** Computes the steps of this rank's inbox; {@code inbound}/{@code outbound} are its links (null at the ends). */
    private void work(int stage, int rank, StageLink inbound, StageLink outbound) throws InterruptedException {
        ModelShard shard = shards[stage][rank];
        BlockingQueue<Ticket> inbox = inboxes.get(index(stage, rank));
        boolean delivers = stage == stages.size() - 1 && rank == 0;
        while (!stopping) {
            Ticket ticket = inbox.poll(100, TimeUnit.MILLISECONDS);
            if (ticket == null) {
                continue;
            }
            if (ticket == STOP) {
                return;
            }
            long start = System.nanoTime();
            long waitedBefore = linkWaitNanos(inbound, outbound);
            shard.forward(ticket.batch(), delivers ? ticket.logits() : null);
            busyNanos.addAndGet(index(stage, rank),
                    System.nanoTime() - start - (linkWaitNanos(inbound, outbound) - waitedBefore));
            if (delivers) {
                finished.add(ticket);
            }
        }
    }

    /** This rank's own waits on its links: receiving from the stage before, sending to the next. */
    private static long linkWaitNanos(StageLink inbound, StageLink outbound) {
        return (inbound == null ? 0 : inbound.recvWaitNanos()) + (outbound == null ? 0 : outbound.sendWaitNanos());
    }

    private void runDriver(Driver driver) {
        try {
            driver.run(this);
        } catch (Throwable t) {
            fail(name + "-driver", 0, t);
        } finally {
            stopping = true;
            stopRanks();
        }
    }

    private void fail(String where, int rank, Throwable t) {
        // Keep the first cause: peers failing because this rank left are consequences, not causes.
        if (failure.compareAndSet(null, new TensorParallelGroup.RankFailure(where, rank, t))) {
            if (!stopping && started.getCount() == 0 && failureHandler != null) {
                failureHandler.onFailure(failure.get());
            }
        }
        stopping = true;
        for (CommGroup g : groups) {
            g.fail(g.name().equals(where) ? rank : 0, new IllegalStateException(name + ": " + where + " rank " + rank
                    + " failed: " + t, t));
        }
        for (StageLink link : links) {
            link.fail(t);
        }
        stopRanks();
        finished.offer(STOP); // wakes a driver waiting for its oldest step
    }

    private void stopRanks() {
        for (BlockingQueue<Ticket> inbox : inboxes) {
            inbox.offer(STOP);
        }
    }

    private void checkDriver(String op) {
        if (Thread.currentThread() != driverThread) {
            throw new IllegalStateException(op + "() is for the driver thread of " + name);
        }
        Throwable cause = failure.get();
        if (cause != null) {
            throw new IllegalStateException(name + " has failed", cause);
        }
        if (stopping) {
            throw new IllegalStateException(name + " is stopping");
        }
    }

    @Override
    public int depth() {
        return stages.size();
    }

    @Override
    public void submit(StepBatch batch, float[] logits) {
        checkDriver("submit");
        if (inFlight >= depth()) {
            throw new IllegalStateException(name + " has " + inFlight + " steps in flight; await the oldest first");
        }
        Ticket ticket = new Ticket(batch, logits);
        for (BlockingQueue<Ticket> inbox : inboxes) {
            inbox.add(ticket);
        }
        inFlight++;
    }

    @Override
    public void awaitOldest() {
        checkDriver("awaitOldest");
        if (inFlight == 0) {
            throw new IllegalStateException(name + " has no step in flight");
        }
        try {
            while (true) {
                Ticket done = finished.poll(100, TimeUnit.MILLISECONDS);
                if (done != null && done != STOP) {
                    inFlight--;
                    return;
                }
                checkDriver("awaitOldest");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(name + ": interrupted while awaiting a step", e);
        }
    }

    @Override
    public int inFlight() {
        return inFlight;
    }

    @Override
    public Throwable failure() {
        return failure.get();
    }

    /** Send and receive waits of every link, summed: time ranks spent waiting for a neighbouring stage. */
    @Override
    public long stageWaitNanos() {
        long sum = 0;
        for (StageLink link : links) {
            sum += link.sendWaitNanos() + link.recvWaitNanos();
        }
        return sum;
    }

    /**
     * Per stage, first to last: nanoseconds its rank 0 has spent computing steps, i.e. inside a step's
     * forward pass less its waits on the stage links (TP collectives count as computing). Against the wall
     * time it shows which stage bounds the pipeline: the busiest one, while the others idle between steps
     * or wait on a link.
     */
    @Override
    public long[] stageBusyNanos() {
        long[] out = new long[stages.size()];
        for (int s = 0; s < out.length; s++) {
            out[s] = busyNanos.get(index(s, 0));
        }
        return out;
    }

    public String name() {
        return name;
    }

    public List<StageSpec> stages() {
        return stages;
    }

    /** Names of the stages' TP groups, first to last. */
    public List<String> groupNames() {
        return groups.stream().map(CommGroup::name).toList();
    }

    /** The shard of rank {@code rank} of stage {@code stage} (for logs and tests). */
    public ModelShard shard(int stage, int rank) {
        return shards[stage][rank];
    }

    /**
     * Stops every thread, waits for them to end and releases shards, groups and links. Groups and links
     * close first, so a rank blocked in a collective or a transfer fails at once.
     */
    @Override
    public void close() {
        stopping = true;
        started.countDown();
        groups.forEach(CommGroup::close);
        links.forEach(StageLink::close);
        stopRanks();
        finished.offer(STOP);
        for (Thread t : threads) {
            if (t != Thread.currentThread() && t.getState() != Thread.State.NEW) {
                try {
                    t.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        for (int s = 0; s < shards.length; s++) {
            for (int r = 0; r < tp; r++) {
                if (shards[s][r] == null) {
                    continue;
                }
                Thread t = threads.get(index(s, r));
                if (t.isAlive() && t != Thread.currentThread()) {
                    // Freeing its native weights under a live thread could crash the JVM; leak them instead.
                    LOG.warn("rank {} of stage {} of {} did not stop within 10 s; its shard is not released", r, s, name);
                    continue;
                }
                shards[s][r].close();
                shards[s][r] = null;
            }
        }
    }
}
