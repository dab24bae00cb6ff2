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
import io.streaminfer.model.StageSpec;
import io.streaminfer.model.TensorNames;
import io.streaminfer.compute.WeightTensor;
import io.streaminfer.compute.StepBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Decode and prefill throughput of the engine's forward pass (all TP ranks, collectives included), per
 * batch size and backend, next to the physical limits measured in the same run:
 * batch 1 against memory bandwidth ÷ weight bytes, larger batches against sgemm peak ÷ FLOPs per token.
 */
public final class EngineBenchmark {
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
     * @param pipelineDegrees PP degrees, each measured in turn (stages x TP ranks, micro-batches in flight)
     * @param overlaps for PP > 1: stage transfers overlapped with computation (true), waited for (false), or both
     * @param pipelineLayers layers per stage for the PP degree of that many stages ({@code --pp-layers}); empty:
     *                       every degree balanced by work
     */
    public record Options(String model, List<Integer> batchSizes, int decodeSteps, int warmupSteps, int promptTokens, int tp,
                          int threadsPerRank, List<String> backends, List<StorageKind> weights,
                          List<Integer> pipelineDegrees, List<Boolean> overlaps, List<Integer> pipelineLayers) {

        /** The stages of PP degree {@code pp}: the given layer counts for their degree, else balanced by work. */
        List<StageSpec> stages(ModelConfig config, int pp) {
            return StageSpec.split(config, pp, pipelineLayers.size() == pp ? pipelineLayers : List.of());
        }
    }

    /**
     * One measured row.
     *
     * @param stageWaitShare share of the ranks' decode time spent waiting for a neighbouring stage (0 at PP=1)
     * @param stageBusyShare per stage, first to last, the share of the decode time its rank 0 computed (empty at
     *                       PP=1): the busiest stage bounds the pipeline, and one below it idles that much
     */
    public record Row(String backend, String weights, int pp, boolean overlap, int batch,
                      double decodeTokensPerSecond, double prefillTokensPerSecond, double limitTokensPerSecond,
                      String limitKind, double stageWaitShare, double[] stageBusyShare) {

        /** {@code 97/81%}, or {@code -} at PP=1. */
        String busyPercents() {
            if (stageBusyShare.length == 0) {
                return "-";
            }
            StringBuilder out = new StringBuilder();
            for (double share : stageBusyShare) {
                out.append(out.length() == 0 ? "" : "/").append(Math.round(100 * share));
            }
            return out.append('%').toString();
        }

        String busyJson() {
            StringBuilder out = new StringBuilder("[");
            for (int s = 0; s < stageBusyShare.length; s++) {
                out.append(s == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.4f", stageBusyShare[s]));
            }
            return out.append(']').toString();
        }

        public double ratio() {
            return decodeTokensPerSecond / limitTokensPerSecond;
        }
    }

    /**
     * The whole run: rows and the machine figures they are compared with.
     *
     * @param limitThreads threads the limits were measured with: TP x the largest PP x threads per rank
     */
    public record Report(String model, ModelConfig config, int tp, int threadsPerRank, int limitThreads, double sgemmGflops,
                         double bandwidthGBs, double flopsPerToken, double weightBytes, List<Row> rows) {

        public String table() {
            StringBuilder out = new StringBuilder();
            out.append(String.format(Locale.ROOT, "model %s: dim %d, %d layers, %d heads, vocab %d; TP=%d, %d thread(s) per rank%n",
                    model, config.dim(), config.numberOfLayers(), config.numberOfHeads(), config.vocabularySize(), tp,
                    threadsPerRank));
            out.append(String.format(Locale.ROOT, "measured now: sgemm peak %.1f GFLOP/s (%d threads), memory bandwidth %.1f GB/s; "
                    + "%.1f MFLOP and %.1f MB of weights per token%n", sgemmGflops, limitThreads, bandwidthGBs,
                    flopsPerToken / 1e6, weightBytes / 1e6));
            out.append(String.format(Locale.ROOT, "%-9s %-9s %3s %-7s %6s %14s %14s %14s %7s %-17s %-10s %s%n", "backend",
                    "weights", "pp", "overlap", "batch", "decode tok/s", "prefill tok/s", "limit tok/s", "ratio", "limit",
                    "stage wait", "stage busy"));
            for (Row r : rows) {
                out.append(String.format(Locale.ROOT, "%-9s %-9s %3d %-7s %6d %14.1f %14.1f %14.1f %6.0f%% %-17s %9.1f%% %s%n",
                        r.backend(), r.weights(), r.pp(), r.overlap() ? "on" : "off",
                        r.batch(), r.decodeTokensPerSecond(), r.prefillTokensPerSecond(), r.limitTokensPerSecond(),
                        100 * r.ratio(), r.limitKind(), 100 * r.stageWaitShare(), r.busyPercents()));
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
                        "{\"backend\":\"%s\",\"weights\":\"%s\",\"pp\":%d,\"overlap\":%b,\"batch\":%d,"
                                + "\"decode_tokens_per_s\":%.2f,\"prefill_tokens_per_s\":%.2f,\"limit_tokens_per_s\":%.2f,"
                                + "\"ratio\":%.4f,\"limit\":\"%s\",\"stage_wait_share\":%.4f,\"stage_busy_share\":%s}",
                        r.backend(), r.weights(), r.pp(), r.overlap(), r.batch(),
                        r.decodeTokensPerSecond(), r.prefillTokensPerSecond(), r.limitTokensPerSecond(), r.ratio(),
                        r.limitKind(), r.stageWaitShare(), r.busyJson()));
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
            int maxStages = options.pipelineDegrees().stream().mapToInt(Integer::intValue).max().orElse(1);
            for (int pp : options.pipelineDegrees()) {
                StageSpec.check(config, pp);
            }
            int threads = options.tp() * maxStages * options.threadsPerRank();
            double sgemm = MachineLimits.sgemmPeakGflops(threads);
            double bandwidth = MachineLimits.memoryBandwidthGBs(threads);
            double matmulParams = matmulParameters(config);
            double flopsPerToken = 2 * matmulParams;
            double weightBytes = Float.BYTES * matmulParams;
            List<Row> rows = new ArrayList<>();
            for (StorageKind kind : options.weights()) {
                // f32 keeps the checkpoint's own storage (a GGUF file's kinds); another kind converts at load
                Checkpoint weights = kind == StorageKind.F32 ? checkpoint : new QuantizedCheckpoint(checkpoint, kind);
                Storage storage = Storage.of(weights);
                double kindBytes = storage.bytes(); // what a token streams at batch 1, a block's scales included
                for (String backend : options.backends()) {
                    for (int pp : options.pipelineDegrees()) {
                        for (boolean overlap : pp == 1 ? List.of(true) : options.overlaps()) {
                            for (int batch : options.batchSizes()) {
                                rows.add(measure(weights, storage.label(), options, backend, pp, overlap, batch, sgemm, bandwidth,
                                        flopsPerToken, kindBytes));
                            }
                        }
                    }
                }
            }
            return new Report(options.model(), config, options.tp(), options.threadsPerRank(), threads, sgemm, bandwidth,
                    flopsPerToken, weightBytes, rows);
        }
    }

    /**
     * The storage of the matrices a token multiplies, as the checkpoint holds them.
     *
     * @param label the layers' kinds, the one holding most weights first, then the classifier's when it differs
     *              ({@code q4_0+q8_0} for a Q4_0 GGUF file, whose classifier llama-quantize keeps in Q8_0)
     * @param bytes their bytes, scales included
     */
    record Storage(String label, long bytes) {
        static Storage of(Checkpoint checkpoint) {
            ModelConfig c = checkpoint.config();
            Map<StorageKind, Long> layerElements = new EnumMap<>(StorageKind.class);
            long bytes = 0;
            for (int layer = 0; layer < c.numberOfLayers(); layer++) {
                for (String name : List.of(TensorNames.query(layer), TensorNames.key(layer), TensorNames.value(layer),
                        TensorNames.attentionOutput(layer), TensorNames.ffnGate(layer), TensorNames.ffnUp(layer),
                        TensorNames.ffnDown(layer))) {
                    WeightTensor t = checkpoint.tensor(name);
                    layerElements.merge(t.kind(), (long) t.rows() * t.cols(), Long::sum);
                    bytes += t.bytes();
                }
            }
            WeightTensor classifier = checkpoint.tensor(TensorNames.classifier(c));
            List<String> kinds = new ArrayList<>(layerElements.entrySet().stream()
                    .sorted(Map.Entry.<StorageKind, Long>comparingByValue().reversed())
                    .map(e -> e.getKey().name().toLowerCase(Locale.ROOT)).toList());
            String classifierKind = classifier.kind().name().toLowerCase(Locale.ROOT);
            if (!kinds.contains(classifierKind)) {
                kinds.add(classifierKind);
            }
            return new Storage(String.join("+", kinds), bytes + classifier.bytes());
        }
    }

    /** Weights that take part in a token's matrix products: every layer's and the classifier. */
    static double matmulParameters(ModelConfig c) {
        double perLayer = 2.0 * c.dim() * c.dim() + 2.0 * c.dim() * c.kvDim() + 3.0 * c.dim() * c.hiddenDim();
        return c.numberOfLayers() * perLayer + (double) c.vocabularySize() * c.dim();
    }

    private static Row measure(Checkpoint checkpoint, String kind, Options options, String backend, int pp,
                               boolean overlap, int batch, double sgemm, double bandwidth, double flopsPerToken,
                               double weightBytes) throws Exception {
        ModelConfig config = checkpoint.config();
        int prompt = Math.min(options.promptTokens(), config.contextLength() - 1);
        int steps = Math.min(options.decodeSteps(), config.contextLength() - prompt);
        if (steps < 1) {
            throw new IllegalArgumentException("--prompt-tokens " + prompt + " leaves no position to decode in a context of "
                    + config.contextLength());
        }
        int positions = prompt + steps;
        int maxRows = Math.max(batch, Math.min(batch * prompt, 512));
        int tp = options.tp();
        CompletableFuture<BenchDriver.Figures> result = new CompletableFuture<>();
        GroupCoordinator coordinator = new GroupCoordinator(CommOptions.inProcess()
                .withBackend(ModelShards.commBackendFor(backend)));
        String name = "bench-" + backend + "-pp" + pp + "-" + batch;
        StepExecutor executor;
        if (pp == 1) {
            executor = TensorParallelGroup.start(coordinator.form(name, tp),
                    (rank, communicator) -> ModelShards.create(backend, options.threadsPerRank(), checkpoint,
                            new ShardSpec(rank, tp, config), communicator, KvGeometry.slots(batch, positions), maxRows),
                    g -> result.complete(new BenchDriver(g, config, batch, prompt, maxRows).run(steps,
                            options.warmupSteps())),
                    result::completeExceptionally, Duration.ofMinutes(10));
        } else {
            executor = PipelineGroup.start(name, coordinator, options.stages(config, pp), tp, overlap ? pp : 0,
                    (stage, rank, communicator, in, out) -> ModelShards.createStage(backend, options.threadsPerRank(),
                            checkpoint, new ShardSpec(rank, tp, config), stage, communicator, in, out,
                            KvGeometry.slots(batch, positions), maxRows),
                    p -> result.complete(new BenchDriver(p, config, batch, prompt, maxRows).run(steps,
                            options.warmupSteps())),
                    result::completeExceptionally, Duration.ofMinutes(10));
        }
        try {
            BenchDriver.Figures figures = result.get();
            double limit = batch == 1 ? bandwidth * 1e9 / weightBytes : sgemm * 1e9 / flopsPerToken;
            double rankSeconds = figures.decodeSeconds() * pp * tp;
            return new Row(backend, kind, pp, overlap, batch, figures.decodeTokensPerSecond(),
                    figures.prefillTokensPerSecond(), limit, batch == 1 ? "bandwidth/weights" : "sgemm/flops",
                    figures.decodeStageWaitNanos() / 1e9 / rankSeconds,
                    Arrays.stream(figures.decodeStageBusyNanos()).mapToDouble(n -> n / 1e9 / figures.decodeSeconds()).toArray());
        } finally {
            executor.close();
        }
    }

}
