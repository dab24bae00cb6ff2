package io.streaminfer.engine;

import io.streaminfer.comm.CommGroup;
import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.compute.KvGeometry;
import io.streaminfer.compute.MachineLimits;
import io.streaminfer.compute.StorageKind;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.QuantizedCheckpoint;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.compute.StepBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * Decode and prefill throughput of the engine's forward pass (all TP ranks, collectives included), per
 * batch size and backend, next to the physical limits measured in the same run:
 * batch 1 against memory bandwidth ÷ weight bytes, larger batches against sgemm peak ÷ FLOPs per token.
 */
public final class EngineBenchmark {
    /** Decode warm-up before timing: the Vector API's JIT needs about 2 s to settle. */
    private static final long WARMUP_NANOS = 2_000_000_000L;

    /**
     * @param model checkpoint path or synthetic description
     * @param batchSizes sequences decoded together
     * @param decodeSteps timed decode steps per batch size
     * @param warmupSteps untimed decode steps first (at least 2 s of them, for the JIT)
     * @param promptTokens prompt length per sequence for the prefill measurement
     * @param tp tensor-parallel degree
     * @param threadsPerRank compute threads per rank
     * @param backends backends to compare (the default kernel first)
     * @param weights storage kinds the model's matrices are converted to at load, each measured in turn
     */
    public record Options(String model, List<Integer> batchSizes, int decodeSteps, int warmupSteps, int promptTokens, int tp,
                          int threadsPerRank, List<String> backends, List<StorageKind> weights) {}

    /** One measured row. */
    public record Row(String backend, StorageKind weights, int batch, double decodeTokensPerSecond,
                      double prefillTokensPerSecond, double limitTokensPerSecond, String limitKind) {
        public double ratio() {
            return decodeTokensPerSecond / limitTokensPerSecond;
        }
    }

    /** The whole run: rows and the machine figures they are compared with. */
    public record Report(String model, ModelConfig config, int tp, int threadsPerRank, double sgemmGflops,
                         double bandwidthGBs, double flopsPerToken, double weightBytes, List<Row> rows) {

        public String table() {
            StringBuilder out = new StringBuilder();
            out.append(String.format(Locale.ROOT, "model %s: dim %d, %d layers, %d heads, vocab %d; TP=%d, %d thread(s) per rank%n",
                    model, config.dim(), config.numberOfLayers(), config.numberOfHeads(), config.vocabularySize(), tp,
                    threadsPerRank));
            out.append(String.format(Locale.ROOT, "measured now: sgemm peak %.1f GFLOP/s (%d threads), memory bandwidth %.1f GB/s; "
                    + "%.1f MFLOP and %.1f MB of weights per token%n", sgemmGflops, tp * threadsPerRank, bandwidthGBs,
                    flopsPerToken / 1e6, weightBytes / 1e6));
            out.append(String.format(Locale.ROOT, "%-9s %-7s %6s %14s %14s %14s %7s %s%n", "backend", "weights", "batch",
                    "decode tok/s", "prefill tok/s", "limit tok/s", "ratio", "limit"));
            for (Row r : rows) {
                out.append(String.format(Locale.ROOT, "%-9s %-7s %6d %14.1f %14.1f %14.1f %6.0f%% %s%n", r.backend(),
                        r.weights().name().toLowerCase(Locale.ROOT), r.batch(),
                        r.decodeTokensPerSecond(), r.prefillTokensPerSecond(), r.limitTokensPerSecond(),
                        100 * r.ratio(), r.limitKind()));
            }
            return out.toString();
        }

        public String json() {
            StringBuilder out = new StringBuilder();
            out.append(String.format(Locale.ROOT, "{\"model\":\"%s\",\"tp\":%d,\"threads_per_rank\":%d,\"sgemm_gflops\":%.2f,"
                    + "\"bandwidth_gbs\":%.2f,\"flops_per_token\":%.0f,\"weight_bytes\":%.0f,\"rows\":[",
                    model.replace("\"", "\\\""), tp, threadsPerRank, sgemmGflops, bandwidthGBs, flopsPerToken, weightBytes));
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                out.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT,
                        "{\"backend\":\"%s\",\"weights\":\"%s\",\"batch\":%d,\"decode_tokens_per_s\":%.2f,"
                                + "\"prefill_tokens_per_s\":%.2f,\"limit_tokens_per_s\":%.2f,\"ratio\":%.4f,\"limit\":\"%s\"}",
                        r.backend(), r.weights().name().toLowerCase(Locale.ROOT), r.batch(), r.decodeTokensPerSecond(), r.prefillTokensPerSecond(),
                        r.limitTokensPerSecond(), r.ratio(), r.limitKind()));
            }
            return out.append("]}").toString();
        }
    }

    private EngineBenchmark() {}

    public static Report run(Options options) throws Exception {
        java.nio.file.Path file = ModelFiles.resolve(options.model());
        try (Checkpoint checkpoint = Checkpoints.open(file)) {
            ModelConfig config = checkpoint.config();
            ShardSpec.check(checkpoint, options.tp());
            int threads = options.tp() * options.threadsPerRank();
            double sgemm = MachineLimits.sgemmPeakGflops(threads);
            double bandwidth = MachineLimits.memoryBandwidthGBs(threads);
            double matmulParams = matmulParameters(config);
            double flopsPerToken = 2 * matmulParams;
            double weightBytes = Float.BYTES * matmulParams;
            List<Row> rows = new ArrayList<>();
            for (StorageKind kind : options.weights()) {
                Checkpoint weights = kind == StorageKind.F32 ? checkpoint : new QuantizedCheckpoint(checkpoint, kind);
                // bytes a token streams at batch 1, in this kind (a block's scale included)
                double kindBytes = weightBytes / Float.BYTES * kind.blockBytes() / kind.blockSize();
                for (String backend : options.backends()) {
                    for (int batch : options.batchSizes()) {
                        rows.add(measure(weights, kind, options, backend, batch, sgemm, bandwidth, flopsPerToken,
                                kindBytes));
                    }
                }
            }
            return new Report(options.model(), config, options.tp(), options.threadsPerRank(), sgemm, bandwidth,
                    flopsPerToken, weightBytes, rows);
        }
    }

    /** Weights that take part in a token's matrix products: every layer's and the classifier. */
    static double matmulParameters(ModelConfig c) {
        double perLayer = 2.0 * c.dim() * c.dim() + 2.0 * c.dim() * c.kvDim() + 3.0 * c.dim() * c.hiddenDim();
        return c.numberOfLayers() * perLayer + (double) c.vocabularySize() * c.dim();
    }

    private static Row measure(Checkpoint checkpoint, StorageKind kind, Options options, String backend, int batch,
                               double sgemm, double bandwidth, double flopsPerToken, double weightBytes) throws Exception {
        ModelConfig config = checkpoint.config();
        int prompt = Math.min(options.promptTokens(), config.contextLength() - 1);
        int steps = Math.min(options.decodeSteps(), config.contextLength() - prompt);
        if (steps < 1) {
            throw new IllegalArgumentException("--prompt-tokens " + prompt + " leaves no position to decode in a context of "
                    + config.contextLength());
        }
        int positions = prompt + steps;
        int maxRows = Math.max(batch, Math.min(batch * prompt, 512));
        CommGroup comms = new GroupCoordinator(CommOptions.inProcess().withBackend(ModelShards.commBackendFor(backend)))
                .form("bench-" + backend + "-" + batch, options.tp());
        CompletableFuture<double[]> result = new CompletableFuture<>();
        TensorParallelGroup group = TensorParallelGroup.start(comms,
                (rank, communicator) -> ModelShards.create(backend, options.threadsPerRank(), checkpoint,
                        new ShardSpec(rank, options.tp(), config), communicator, KvGeometry.slots(batch, positions), maxRows),
                g -> result.complete(drive(g, config, batch, prompt, steps, options.warmupSteps(), maxRows)),
                result::completeExceptionally, Duration.ofMinutes(10));
        try {
            double[] perSecond = result.get();
            double limit = batch == 1 ? bandwidth * 1e9 / weightBytes : sgemm * 1e9 / flopsPerToken;
            return new Row(backend, kind, batch, perSecond[0], perSecond[1], limit,
                    batch == 1 ? "bandwidth/weights" : "sgemm/flops");
        } finally {
            group.close();
        }
    }

    /** Prefills batch x prompt tokens in steps of at most maxRows rows. */
    private static void prefill(TensorParallelGroup group, ModelConfig config, int batch, int prompt, int maxRows,
                                float[] logits) {
        int total = batch * prompt;
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
                tokens[i] = 1 + (index * 31) % (config.vocabularySize() - 1);
                want[i] = positions[i] == prompt - 1;
            }
            group.step(new StepBatch(slots, positions, tokens, want), logits);
            done += rows;
        }
    }

    /** On the driver: prefill every slot (once untimed), then time decode steps. Returns {decode, prefill} tok/s. */
    private static double[] drive(TensorParallelGroup group, ModelConfig config, int batch, int prompt, int steps,
                                  int warmup, int maxRows) {
        float[] logits = new float[maxRows * config.vocabularySize()];
        int total = batch * prompt;
        prefill(group, config, batch, prompt, maxRows, logits); // warm-up: JIT, caches; overwritten below
        // Decode warm-up until the JIT has settled (the Vector API needs about 2 s), cycling over the
        // positions the timed run uses: their K/V are rewritten before they are read again.
        long warmupEnd = System.nanoTime() + WARMUP_NANOS;
        for (int step = 0; step < warmup || System.nanoTime() < warmupEnd; step++) {
            decodeStep(group, config, batch, prompt + step % steps, new int[batch], logits);
        }
        long prefillStart = System.nanoTime();
        prefill(group, config, batch, prompt, maxRows, logits);
        double prefillSeconds = (System.nanoTime() - prefillStart) / 1e9;
        // decode: one row per slot per step, greedy feedback
        int[] next = new int[batch];
        java.util.Arrays.fill(next, 1);
        long decodeStart = System.nanoTime();
        for (int step = 0; step < steps; step++) {
            decodeStep(group, config, batch, prompt + step, next, logits);
        }
        double decodeSeconds = (System.nanoTime() - decodeStart) / 1e9;
        return new double[] {(double) batch * steps / decodeSeconds, total / prefillSeconds};
    }

    /** One decode row per slot at {@code position}, feeding {@code next} and replacing it with the argmax. */
    private static void decodeStep(TensorParallelGroup group, ModelConfig config, int batch, int position, int[] next,
                                   float[] logits) {
        int[] slots = new int[batch];
        int[] positions = new int[batch];
        boolean[] want = new boolean[batch];
        for (int b = 0; b < batch; b++) {
            slots[b] = b;
            positions[b] = position;
            want[b] = true;
        }
        group.step(new StepBatch(slots, positions, next.clone(), want), logits);
        for (int b = 0; b < batch; b++) {
            next[b] = Sampler.argmax(logits, b * config.vocabularySize(), config.vocabularySize());
        }
    }

}
