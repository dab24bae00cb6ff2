package io.streaminfer.compute;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Random;

/**
 * The matrix products of one stories15M decode step (6 layers of q|k|v, wo, w1|w3 and w2, then the classifier),
 * per storage kind, as tokens/s of product work alone. Kinds alternate within each round, so their ratios come
 * from the same minutes. With one thread it counts the thread's CPU time, not the wall clock, so figures stay
 * comparable on a machine that other processes load (cache sharing still moves them a little).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp gpu-operator/target/classes:comm/target/classes:$(cat /tmp/si-cp.txt) \
 *     io.streaminfer.compute.DecodeStepBenchmark [m=1] [threads=1] [weights=f32,q8_0,q4_0,bf16] [rounds=3]
 * </pre>
 */
public final class DecodeStepBenchmark {
    private static final int[][] LAYER_SHAPES = {{3 * 288, 288}, {288, 288}, {2 * 768, 288}, {288, 768}}; // {n, k}
    private static final int LAYERS = 6;
    private static final int VOCABULARY = 32000;
    private static final int SEGMENTS = 2; // what ShardSpec gives this shape

    private DecodeStepBenchmark() {}

    public static void main(String[] args) {
        int m = 1;
        int threads = 1;
        StorageKind[] kinds = {StorageKind.F32, StorageKind.Q8_0, StorageKind.Q4_0, StorageKind.BF16};
        int rounds = 3;
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            switch (kv.length == 2 ? kv[0] : "") {
                case "m" -> m = Integer.parseInt(kv[1]);
                case "threads" -> threads = Integer.parseInt(kv[1]);
                case "weights" -> kinds = Arrays.stream(kv[1].split(",")).map(w -> StorageKind.valueOf(w.toUpperCase()))
                        .toArray(StorageKind[]::new);
                case "rounds" -> rounds = Integer.parseInt(kv[1]);
                default -> throw new IllegalArgumentException("expected m=, threads=, weights= or rounds=, got '" + arg
                        + "'");
            }
        }
        try (VectorMatmul kernel = new VectorMatmul(threads)) {
            PackedMatrix[][] step = new PackedMatrix[kinds.length][];
            for (int i = 0; i < kinds.length; i++) {
                step[i] = pack(kernel, kinds[i]);
            }
            float[] x = new float[m * 768];
            Random random = new Random(2);
            for (int i = 0; i < x.length; i++) {
                x[i] = random.nextFloat() - 0.5f;
            }
            float[] out = new float[m * VOCABULARY];
            for (PackedMatrix[] s : step) { // JIT warm-up: a few seconds each
                run(kernel, m, s, x, out, 3_000_000_000L, false);
            }
            for (int round = 0; round < rounds; round++) {
                StringBuilder line = new StringBuilder(String.format("round %d  m=%d threads=%d:", round, m, threads));
                for (int i = 0; i < kinds.length; i++) {
                    double seconds = run(kernel, m, step[i], x, out, 1_000_000_000L, threads == 1);
                    line.append(String.format("  %s %.0f", kinds[i].name().toLowerCase(), m / seconds));
                }
                System.out.println(line + " tok/s (products only, " + (threads == 1 ? "CPU time)" : "wall clock)"));
            }
        }
    }

    private static PackedMatrix[] pack(MatmulKernel kernel, StorageKind kind) {
        Random random = new Random(1);
        PackedMatrix[] step = new PackedMatrix[LAYERS * LAYER_SHAPES.length + 1];
        for (int j = 0; j < step.length; j++) {
            boolean classifier = j == step.length - 1;
            int n = classifier ? VOCABULARY : LAYER_SHAPES[j % LAYER_SHAPES.length][0];
            int k = classifier ? 288 : LAYER_SHAPES[j % LAYER_SHAPES.length][1];
            float[] w = new float[n * k];
            for (int i = 0; i < w.length; i++) {
                w[i] = random.nextFloat() - 0.5f;
            }
            step[j] = kernel.pack(SEGMENTS, WeightSlice.of(Quantize.to(kind, WeightTensor.ofFloats("w" + j, n, k, w))));
        }
        return step;
    }

    /** Seconds per step, over steps run for about {@code nanos} of wall clock. */
    private static double run(MatmulKernel kernel, int m, PackedMatrix[] step, float[] x, float[] out, long nanos,
                              boolean cpuTime) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long wall0 = System.nanoTime();
        long cpu0 = threads.getCurrentThreadCpuTime();
        int steps = 0;
        while (System.nanoTime() - wall0 < nanos) {
            for (PackedMatrix w : step) {
                kernel.matmul(x, m, w, out);
            }
            steps++;
        }
        long spent = cpuTime ? threads.getCurrentThreadCpuTime() - cpu0 : System.nanoTime() - wall0;
        return spent / 1e9 / steps;
    }
}
