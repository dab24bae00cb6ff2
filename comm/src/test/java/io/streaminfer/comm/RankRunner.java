package io.streaminfer.comm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs one task per rank on its own named daemon thread and collects what each rank threw. */
final class RankRunner {
    interface RankTask {
        void run(Communicator comm) throws Exception;
    }

    private RankRunner() {}

    /** Runs {@code task} on every rank of {@code group}; returns each rank's throwable (null if none). */
    static Throwable[] runAll(CommGroup group, RankTask task) throws InterruptedException {
        return runAll(group, task, 60);
    }

    static Throwable[] runAll(CommGroup group, RankTask task, int joinSeconds) throws InterruptedException {
        int n = group.size();
        Throwable[] errors = new Throwable[n];
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            int rank = r;
            Communicator comm = group.communicator(r);
            Thread t = new Thread(() -> {
                try {
                    task.run(comm);
                } catch (Throwable e) {
                    errors[rank] = e;
                }
            }, group.name() + "-rank-" + r);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(joinSeconds);
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " still running after " + joinSeconds + " s: a rank hangs");
            }
        }
        return errors;
    }

    /** Like runAll, but fails the test if any rank threw. */
    static void runOk(CommGroup group, RankTask task) throws InterruptedException {
        Throwable[] errors = runAll(group, task);
        for (int r = 0; r < errors.length; r++) {
            if (errors[r] != null) {
                throw new AssertionError("rank " + r + " of " + group.name() + " threw", errors[r]);
            }
        }
    }
}
