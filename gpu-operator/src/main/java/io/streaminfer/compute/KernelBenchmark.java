package io.streaminfer.compute;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Kernel micro-benchmark: GFLOP/s per backend and shape, next to the machine's sgemm peak and bandwidth.
 *
 * <pre>
 * mvn -B -q -o -pl gpu-operator -am compile dependency:build-classpath -Dmdep.outputFile=/tmp/si-cp.txt
 * java --add-modules jdk.incubator.vector -cp gpu-operator/target/classes:comm/target/classes:$(cat /tmp/si-cp.txt) \
 *     io.streaminfer.compute.KernelBenchmark [threads=1,2] [backends=vector,openblas] [shapes=big|stories|all] \
 *     [weights=f32,q8_0,...] [m=1,8,32,64] [rounds=1]
 * </pre>
 */
public final class KernelBenchmark {

    private KernelBenchmark() {}

    public static void main(String[] args) {
        int[] threadCounts = {1, 2};
        List<String> backends = List.of("vector", "openblas");
        String shapes = "all";
        List<StorageKind> kinds = List.of(StorageKind.F32);
        int rounds = 1;
        int[] batches = {1, 8, 32, 64};
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("expected key=value, got '" + arg + "'");
            }
            switch (kv[0]) {
                case "threads":
                    threadCounts = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                    break;
                case "backends":
                    backends = List.of(kv[1].split(","));
                    break;
                case "shapes":
                    shapes = kv[1];
                    break;
                case "weights":
                    kinds = Arrays.stream(kv[1].split(",")).map(w -> StorageKind.valueOf(w.toUpperCase())).toList();
                    break;
                case "m":
                    batches = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                    break;
                case "rounds":
                    rounds = Integer.parseInt(kv[1]);
                    break;
                default:
                    throw new IllegalArgumentException("unknown option '" + kv[0]
                            + "' (threads, backends, shapes, weights, m, rounds)");
            }
        }
        List<int[]> shapeList = new ArrayList<>(); // {m, n, k}
        if (!shapes.equals("stories")) {
            for (int m : new int[] {1, 8, 64}) {
                shapeList.add(new int[] {m, 4096, 4096});
            }
        }
        if (!shapes.equals("big")) {
            for (int[] nk : new int[][] {{288, 288}, {768, 288}, {288, 768}, {32000, 288}}) {
                for (int m : batches) {
                    shapeList.add(new int[] {m, nk[0], nk[1]});
                }
            }
        }
        for (int threads : threadCounts) {
            System.out.printf("threads=%d  sgemm peak %.1f GFLOP/s  bandwidth %.1f GB/s%n", threads,
                    MachineLimits.sgemmPeakGflops(threads), MachineLimits.memoryBandwidthGBs(threads));
            for (String name : backends) {
                try (MatmulKernel backend = Backends.kernel(name, threads)) {
                    // kinds alternate within each round, so their ratios come from the same minutes
                    for (int round = 0; round < rounds; round++) {
                        for (int[] shape : shapeList) {
                            for (StorageKind kind : kinds) {
                                double gflops = measure(backend, kind, shape[0], shape[1], shape[2]);
                                System.out.printf("  %-8s t=%d  %-5s m=%-3d n=%-5d k=%-5d %7.1f GFLOP/s%n", name,
                                        threads, kind.name().toLowerCase(), shape[0], shape[1], shape[2], gflops);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Median GFLOP/s over rounds of about 40 ms each, after about 1 s of warm-up. */
    static double measure(MatmulKernel backend, StorageKind kind, int m, int n, int k) {
        Random random = new Random(1);
        float[] weights = new float[n * k];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = random.nextFloat() - 0.5f;
        }
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() - 0.5f;
        }
        float[] out = new float[m * n];
        PackedMatrix w = kind == StorageKind.F32 ? backend.pack(FloatBuffer.wrap(weights), n, k, k, 1)
                : backend.pack(1, WeightSlice.of(Quantize.to(kind, WeightTensor.ofFloats("w", n, k, weights))));
        double flops = 2.0 * m * n * k;
        int calls = 1;
        long warmEnd = System.nanoTime() + 800_000_000L;
        while (System.nanoTime() < warmEnd) {
            backend.matmul(x, m, w, out);
        }
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < 40_000_000L) {
            backend.matmul(x, m, w, out);
            calls++;
        }
        double[] rates = new double[9];
        for (int round = 0; round < rates.length; round++) {
            long start = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                backend.matmul(x, m, w, out);
            }
            rates[round] = flops * calls / ((System.nanoTime() - start) / 1e9) / 1e9;
        }
        Arrays.sort(rates);
        return rates[rates.length / 2];
    }
}
