package io.streaminfer.compute;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * The physical limits of this machine, measured in-process for benchmarks (each call takes about 1-3 s):
 * the sgemm peak sets the batched-decode limit, the memory bandwidth sets the single-stream limit.
 */
public final class MachineLimits {
    private static final int GEMM_SIZE = 512;
    private static final long STREAM_BYTES = 256L << 20;

    private MachineLimits() {}

    /**
     * Median GFLOP/s of OpenBLAS sgemm 512x512x512 with one OpenBLAS thread per Java thread; with
     * {@code threads > 1}, that many independent sgemms run at once on their own threads (counted together).
     */
    public static double sgemmPeakGflops(int threads) {
        checkThreads(threads);
        openblas_nolapack.blas_set_num_threads(1);
        int s = GEMM_SIZE;
        double flopsPerCall = 2.0 * s * s * s;
        int callsPerRound = 4;
        double[] seconds = runRounds(threads, 6, 15, () -> {
            FloatPointer[] abc = {filled((long) s * s), filled((long) s * s), new FloatPointer((long) s * s)};
            return abc;
        }, abc -> {
            for (int i = 0; i < callsPerRound; i++) {
                openblas_nolapack.cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s, s, s, 1f, abc[0], s,
                        abc[1], s, 0f, abc[2], s);
            }
        });
        return threads * callsPerRound * flopsPerCall / median(seconds) / 1e9;
    }

    /**
     * Median GB/s reading a 256 MiB off-heap array ({@code cblas_sasum}); with {@code threads > 1} each
     * thread reads its own share at the same time.
     */
    public static double memoryBandwidthGBs(int threads) {
        checkThreads(threads);
        openblas_nolapack.blas_set_num_threads(1);
        long perThread = STREAM_BYTES / 4 / threads;
        double[] seconds = runRounds(threads, 2, 9, () -> new FloatPointer[] {filled(perThread)},
                p -> openblas_nolapack.cblas_sasum((int) perThread, p[0], 1));
        return STREAM_BYTES / median(seconds) / 1e9;
    }

    private interface Work {
        void run(FloatPointer[] buffers);
    }

    private interface Setup {
        FloatPointer[] buffers();
    }

    /** Runs warm-up plus measured rounds; all threads start each round together; returns each round's time. */
    private static double[] runRounds(int threads, int warmup, int rounds, Setup setup, Work work) {
        int total = warmup + rounds;
        double[] seconds = new double[rounds];
        long[] starts = new long[total];
        CyclicBarrier start = new CyclicBarrier(threads, () -> { });
        CyclicBarrier end = new CyclicBarrier(threads);
        CountDownLatch done = new CountDownLatch(threads);
        Throwable[] failure = new Throwable[1];
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = new Thread(() -> {
                FloatPointer[] buffers = setup.buffers();
                try {
                    for (int round = 0; round < total; round++) {
                        start.await();
                        if (id == 0) {
                            starts[round] = System.nanoTime();
                        }
                        work.run(buffers);
                        end.await();
                        if (id == 0 && round >= warmup) {
                            seconds[round - warmup] = (System.nanoTime() - starts[round]) / 1e9;
                        }
                    }
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                    start.reset();
                    end.reset();
                } finally {
                    for (FloatPointer p : buffers) {
                        p.close();
                    }
                    done.countDown();
                }
            }, "streaminfer-limits-" + t);
            workers[t].setDaemon(true);
            workers[t].start();
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring", e);
        }
        synchronized (failure) {
            if (failure[0] != null) {
                throw new IllegalStateException("measurement failed: " + failure[0], failure[0]);
            }
        }
        return seconds;
    }

    private static FloatPointer filled(long count) {
        FloatPointer p = new FloatPointer(count);
        float[] chunk = new float[1 << 16];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = (i % 17) * 0.01f;
        }
        for (long at = 0; at < count; at += chunk.length) {
            int len = (int) Math.min(chunk.length, count - at);
            p.getPointer(at).put(chunk, 0, len);
        }
        return p;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static void checkThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
    }
}
