package io.streaminfer.comm;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;

/**
 * allReduce latency (1 KiB) and bus bandwidth (64 MiB) for 2 and 4 ranks, next to this machine's
 * memcpy bandwidth (System.arraycopy). Bus bandwidth as NCCL defines it: algbw * 2(n-1)/n.
 *
 * <p>Usage: {@code java -cp comm/target/classes:<javacpp jars> io.streaminfer.comm.CommBenchmark
 * [in-process|nccl] [ranks,...] [spin-wait, e.g. 20us]}. The NCCL mode uses device buffers and NCCL's own allReduce.
 */
public final class CommBenchmark {
    private static final int SMALL_FLOATS = 256;             // 1 KiB
    private static final int LARGE_FLOATS = 16 * 1024 * 1024; // 64 MiB
    private static final int REPEATS = 5;

    private CommBenchmark() {}

    public static void main(String[] args) throws Exception {
        CommBackend backend = args.length > 0 ? CommBackend.parse(args[0]) : CommBackend.IN_PROCESS;
        int[] rankCounts = args.length > 1
                ? Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray() : new int[] {2, 4};
        System.out.printf(Locale.ROOT, "backend %s, %d cores%n", backend, Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "memcpy (System.arraycopy, 64 MiB): %.2f GB/s%n", memcpyGBs());
        Duration spin = args.length > 2 ? CommOptions.parseDuration("spin-wait", args[2]) : CommOptions.DEFAULT_SPIN_WAIT;
        System.out.printf(Locale.ROOT, "spin-wait before parking: %s%n", spin);
        GroupCoordinator coordinator = new GroupCoordinator(new CommOptions(backend, Duration.ofSeconds(120), spin));
        for (int n : rankCounts) {
            try (CommGroup group = coordinator.form("bench-" + n, n)) {
                double smallUs = median(n, () -> timeAllReduce(group, backend, SMALL_FLOATS, 20_000)) * 1e6;
                double largeS = median(n, () -> timeAllReduce(group, backend, LARGE_FLOATS, 5));
                double algbw = 4.0 * LARGE_FLOATS / largeS / 1e9;
                double busbw = algbw * 2.0 * (n - 1) / n;
                System.out.printf(Locale.ROOT,
                        "%d ranks: allReduce 1 KiB latency %.2f us; 64 MiB %.1f ms, algbw %.2f GB/s, busbw %.2f GB/s%n",
                        n, smallUs, largeS * 1e3, algbw, busbw);
            }
        }
    }

    interface Timed {
        double seconds() throws Exception;
    }

    private static double median(int n, Timed timed) throws Exception {
        double[] runs = new double[REPEATS];
        for (int i = 0; i < REPEATS; i++) {
            runs[i] = timed.seconds();
        }
        Arrays.sort(runs);
        return runs[REPEATS / 2];
    }

    private static double memcpyGBs() {
        float[] src = new float[LARGE_FLOATS];
        float[] dst = new float[LARGE_FLOATS];
        Arrays.fill(src, 1f);
        double[] runs = new double[REPEATS * 2];
        for (int i = 0; i < runs.length; i++) {
            long t0 = System.nanoTime();
            System.arraycopy(src, 0, dst, 0, LARGE_FLOATS);
            runs[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(runs);
        // Bytes moved: read + write counted once, as a memcpy benchmark reports it.
        return 4.0 * LARGE_FLOATS / runs[runs.length / 2] / 1e9;
    }

    /** Seconds per allReduce of {@code floats} elements, timed on rank 0 between two barriers. */
    private static double timeAllReduce(CommGroup group, CommBackend backend, int floats, int iterations)
            throws InterruptedException {
        int n = group.size();
        double[] seconds = new double[1];
        Throwable[] errors = new Throwable[n];
        Thread[] threads = new Thread[n];
        for (int r = 0; r < n; r++) {
            Communicator comm = group.communicator(r);
            int rank = r;
            threads[r] = new Thread(() -> {
                try {
                    Runnable op = backend == CommBackend.NCCL
                            ? deviceAllReduce((NcclCommunicator) comm, floats)
                            : heapAllReduce(comm, floats);
                    for (int i = 0; i < Math.max(2, iterations / 10); i++) {
                        op.run(); // warm-up
                    }
                    comm.barrier();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < iterations; i++) {
                        op.run();
                    }
                    comm.barrier();
                    if (rank == 0) {
                        seconds[0] = (System.nanoTime() - t0) / 1e9 / iterations;
                    }
                } catch (Throwable e) {
                    errors[rank] = e;
                }
            }, group.name() + "-bench-rank-" + r);
            threads[r].setDaemon(true);
        }
        for (Thread t : threads) {
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        for (Throwable e : errors) {
            if (e != null) {
                throw new IllegalStateException("benchmark rank failed", e);
            }
        }
        return seconds[0];
    }

    private static Runnable heapAllReduce(Communicator comm, int floats) {
        float[] buf = new float[floats];
        Arrays.fill(buf, comm.rank() + 1);
        return () -> comm.allReduce(buf, 0, floats);
    }

    private static Runnable deviceAllReduce(NcclCommunicator comm, int floats) {
        cudart.cudaSetDevice(comm.device());
        FloatPointer buf = new FloatPointer();
        NcclGroup.checkCuda(cudart.cudaMalloc(buf, 4L * floats), "cudaMalloc");
        return () -> {
            comm.allReduceDevice(buf, floats);
            comm.synchronize();
        };
    }
}
