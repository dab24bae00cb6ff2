package io.streaminfer.cuda;

import io.streaminfer.comm.CommBackend;
import io.streaminfer.comm.CommGroup;
import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.comm.NcclCommunicator;
import io.streaminfer.engine.ModelFiles;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.TransformerShard;
import io.streaminfer.compute.StepBatch;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;

/**
 * GPU decode throughput against the limits measured in the same run:
 * <ul>
 *   <li>device memory bandwidth: a large device-to-device cudaMemcpy (bytes read + written per second);</li>
 *   <li>dense GEMM peak: cublasSgemm (fp32) and cublasGemmEx (bf16 in, fp32 accumulate) at 8192³;</li>
 *   <li>decode tok/s at batch 1 (limit: bandwidth ÷ weight bytes) and batch 256 (limit: GEMM peak ÷ 2 FLOPs
 *       per matrix parameter), for each model and precision, on one device (TP=1);</li>
 *   <li>NCCL allReduce bus bandwidth, 2·(n−1)/n · bytes ÷ time, when at least 2 devices are present.</li>
 * </ul>
 * Usage: {@code CudaBenchmark [--out FILE] [--steps N] [--model DESCRIPTION]...}; the default models are the
 * stories15M shape and a 1B shape (synthetic weights).
 */
public final class CudaBenchmark {
    private static final List<String> DEFAULT_MODELS = List.of("synthetic:stories15M",
            "synthetic:dim=2048,hidden=5632,layers=16,heads=32,kv_heads=8,vocab=32000,seq_len=2048");
    private static final int[] BATCHES = {1, 256};
    private static final int PROMPT = 16;

    private final PrintStream out;
    private final int steps;

    private CudaBenchmark(PrintStream out, int steps) {
        this.out = out;
        this.steps = steps;
    }

    public static void main(String[] args) throws Exception {
        Path outFile = null;
        int steps = 64;
        List<String> models = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> outFile = Path.of(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--model" -> models.add(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; usage: CudaBenchmark [--out FILE] [--steps N] [--model DESCRIPTION]...");
            }
        }
        CudaSupport.requireAvailable("CudaBenchmark");
        List<String> lines = new ArrayList<>();
        PrintStream tee = new PrintStream(System.out, true) {
            @Override
            public void println(String line) {
                super.println(line);
                lines.add(line);
            }
        };
        new CudaBenchmark(tee, steps).run(models.isEmpty() ? DEFAULT_MODELS : models);
        if (outFile != null) {
            write(outFile, lines);
        }
    }

    private static void write(Path file, List<String> lines) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        Files.write(file, lines);
    }

    private void run(List<String> models) throws Exception {
        int devices = CudaSupport.deviceCount();
        CudaSupport.check(cudart.cudaSetDevice(0), "cudaSetDevice(0)");
        double bandwidth = deviceBandwidth();
        double fp32Peak = gemmPeak(CudaPrecision.FP32);
        double bf16Peak = gemmPeak(CudaPrecision.BF16);
        out.println(String.format(Locale.ROOT, "roofline device 0: memory %.0f GB/s, sgemm %.1f TFLOP/s, "
                + "bf16 gemm %.1f TFLOP/s (%d device(s))", bandwidth / 1e9, fp32Peak / 1e12, bf16Peak / 1e12, devices));
        for (String model : models) {
            Path file = ModelFiles.resolve(model);
            try (Checkpoint checkpoint = Checkpoints.open(file)) {
                for (CudaPrecision precision : CudaPrecision.values()) {
                    double peak = precision == CudaPrecision.FP32 ? fp32Peak : bf16Peak;
                    for (int batch : BATCHES) {
                        decode(model, checkpoint, precision, batch, bandwidth, peak);
                    }
                }
            }
        }
        if (devices >= 2) {
            ncclBusBandwidth(devices);
        } else {
            out.println("nccl allReduce: skipped, needs 2 devices (found " + devices + ")");
        }
    }

    private void decode(String model, Checkpoint checkpoint, CudaPrecision precision, int batch, double bandwidth,
                        double peak) {
        ModelConfig c = checkpoint.config();
        int positions = Math.min(c.contextLength(), PROMPT + steps + 4);
        try (CommGroup group = new GroupCoordinator(CommOptions.inProcess()).form("bench", 1);
             TransformerShard shard = new TransformerShard(checkpoint, new ShardSpec(0, 1, c), group.communicator(0),
                     new CudaBackend(new CudaOptions(precision, 0), group.communicator(0)), batch, positions,
                     Math.max(batch, PROMPT))) {
            float[] logits = new float[batch * c.vocabularySize()];
            // prefill each slot's prompt, one slot per step (prefill is not what is measured here)
            for (int s = 0; s < batch; s++) {
                int[] slots = new int[PROMPT];
                int[] pos = new int[PROMPT];
                int[] tokens = new int[PROMPT];
                boolean[] want = new boolean[PROMPT];
                for (int i = 0; i < PROMPT; i++) {
                    slots[i] = s;
                    pos[i] = i;
                    tokens[i] = 1 + (s * 31 + i * 17) % (c.vocabularySize() - 1);
                }
                shard.forward(new StepBatch(slots, pos, tokens, want), null);
            }
            int warmup = 3;
            long start = 0;
            for (int step = 0; step < warmup + steps && PROMPT + step < positions; step++) {
                if (step == warmup) {
                    start = System.nanoTime();
                }
                int[] slots = new int[batch];
                int[] pos = new int[batch];
                int[] tokens = new int[batch];
                boolean[] want = new boolean[batch];
                for (int s = 0; s < batch; s++) {
                    slots[s] = s;
                    pos[s] = PROMPT + step;
                    tokens[s] = 1 + (s * 7 + step * 13) % (c.vocabularySize() - 1);
                    want[s] = true;
                }
                shard.forward(new StepBatch(slots, pos, tokens, want), logits);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double tokensPerSecond = (double) batch * steps / seconds;
            long matrixParameters = c.parameterCount() - (long) c.vocabularySize() * c.dim()
                    + (c.tiedEmbeddings() ? (long) c.vocabularySize() * c.dim() : 0);
            // A step reads every weight once, except the embedding: one row per token, unless it is the classifier.
            long embeddingBytes = (long) c.vocabularySize() * c.dim() * Float.BYTES;
            long bytesPerStep = shard.weightBytes()
                    - (c.tiedEmbeddings() && precision == CudaPrecision.FP32 ? 0 : embeddingBytes);
            double limit = batch == 1 ? bandwidth / bytesPerStep : peak / (2.0 * matrixParameters);
            out.println(String.format(Locale.ROOT, "decode %s %s batch %d: %.0f tok/s, limit %.0f tok/s (%s), "
                            + "%.0f%% of it; weights %d MiB", model, precision, batch, tokensPerSecond, limit,
                    batch == 1 ? "bandwidth / weight bytes read per step" : "GEMM peak / FLOPs per token",
                    100 * tokensPerSecond / limit, shard.weightBytes() >> 20));
        } catch (IllegalStateException e) {
            out.println("decode " + model + " " + precision + " batch " + batch + ": skipped: " + e.getMessage());
        }
    }

    /** Bytes read plus written per second by a device-to-device copy of 1 GiB. */
    private static double deviceBandwidth() {
        long bytes = 1L << 30;
        try (DeviceBuffer a = DeviceBuffer.allocate(bytes, "bandwidth source");
             DeviceBuffer b = DeviceBuffer.allocate(bytes, "bandwidth target");
             Timer timer = new Timer()) {
            int reps = 20;
            for (int i = 0; i < reps + 2; i++) {
                if (i == 2) {
                    timer.start();
                }
                CudaSupport.check(cudart.cudaMemcpyAsync(b.pointer(), a.pointer(), bytes,
                        cudart.cudaMemcpyDeviceToDevice, timer.stream), "cudaMemcpyAsync D2D");
            }
            return 2.0 * bytes * reps / timer.stopSeconds();
        }
    }

    /** FLOP/s of C = A·B at 8192³, fp32 (cublasSgemm) or bf16 inputs with fp32 accumulation. */
    private static double gemmPeak(CudaPrecision precision) {
        int n = 8192;
        long elements = (long) n * n;
        int e = precision.bytesPerWeight();
        try (DeviceBuffer a = DeviceBuffer.allocate(elements * e, "gemm A");
             DeviceBuffer b = DeviceBuffer.allocate(elements * e, "gemm B");
             DeviceBuffer c = DeviceBuffer.allocate(elements * 4, "gemm C");
             Timer timer = new Timer();
             FloatPointer one = new FloatPointer(1f);
             FloatPointer zero = new FloatPointer(0f)) {
            cudart.cudaMemset(a.pointer(), 0, elements * e);
            cudart.cudaMemset(b.pointer(), 0, elements * e);
            cublasContext handle = new cublasContext();
            CudaSupport.checkCublas(cublas.cublasCreate_v2(handle), "cublasCreate");
            try {
                cublas.cublasSetStream_v2(handle, timer.stream);
                int reps = 10;
                for (int i = 0; i < reps + 2; i++) {
                    if (i == 2) {
                        timer.start();
                    }
                    int status = precision == CudaPrecision.FP32
                            ? cublas.cublasSgemm_v2(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, n, n, n, one,
                                    DeviceBuffer.floats(a.address()), n, DeviceBuffer.floats(b.address()), n, zero,
                                    DeviceBuffer.floats(c.address()), n)
                            : cublas.cublasGemmEx(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, n, n, n, one,
                                    a.pointer(), cudart.CUDA_R_16BF, n, b.pointer(), cudart.CUDA_R_16BF, n, zero,
                                    c.pointer(), cudart.CUDA_R_32F, n, cublas.CUBLAS_COMPUTE_32F,
                                    cublas.CUBLAS_GEMM_DEFAULT);
                    CudaSupport.checkCublas(status, "gemm " + precision);
                }
                return 2.0 * n * n * (double) n * reps / timer.stopSeconds();
            } finally {
                cublas.cublasDestroy_v2(handle);
            }
        }
    }

    /** allReduce of 256 MiB on every device at once, one thread per rank; prints the bus bandwidth. */
    private void ncclBusBandwidth(int devices) throws Exception {
        long floats = 64L << 20;
        int reps = 20;
        double[] seconds = new double[devices];
        try (CommGroup group = new GroupCoordinator(CommOptions.inProcess().withBackend(CommBackend.NCCL))
                .form("nccl-bench", devices)) {
            CyclicBarrier barrier = new CyclicBarrier(devices);
            Thread[] threads = new Thread[devices];
            Throwable[] failures = new Throwable[devices];
            for (int r = 0; r < devices; r++) {
                int rank = r;
                threads[r] = new Thread(() -> {
                    NcclCommunicator comm = (NcclCommunicator) group.communicator(rank);
                    try {
                        CudaSupport.check(cudart.cudaSetDevice(comm.device()), "cudaSetDevice");
                        try (DeviceBuffer buf = DeviceBuffer.allocate(floats * 4, "allReduce buffer")) {
                            cudart.cudaMemset(buf.pointer(), 0, floats * 4);
                            comm.allReduceDevice(buf.pointer(), floats);
                            comm.synchronize();
                            barrier.await();
                            long start = System.nanoTime();
                            for (int i = 0; i < reps; i++) {
                                comm.allReduceDevice(buf.pointer(), floats);
                            }
                            comm.synchronize();
                            seconds[rank] = (System.nanoTime() - start) / 1e9;
                        }
                    } catch (Throwable t) {
                        failures[rank] = t;
                    }
                }, "nccl-bench-rank-" + r);
                threads[r].setDaemon(true);
                threads[r].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            for (Throwable t : failures) {
                if (t != null) {
                    throw new IllegalStateException("NCCL benchmark failed: " + t, t);
                }
            }
        }
        double worst = 0;
        for (double s : seconds) {
            worst = Math.max(worst, s);
        }
        double bytes = floats * 4.0;
        double busBandwidth = 2.0 * (devices - 1) / devices * bytes * reps / worst;
        out.println(String.format(Locale.ROOT, "nccl allReduce %d devices, %d MiB fp32: bus bandwidth %.1f GB/s",
                devices, (long) bytes >> 20, busBandwidth / 1e9));
    }

    /** CUDA events around work on a stream of the current device. */
    private static final class Timer implements AutoCloseable {
        final CUstream_st stream = new CUstream_st();
        private final CUevent_st begin = new CUevent_st();
        private final CUevent_st end = new CUevent_st();

        Timer() {
            CudaSupport.check(cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking), "cudaStreamCreate");
            CudaSupport.check(cudart.cudaEventCreate(begin), "cudaEventCreate");
            CudaSupport.check(cudart.cudaEventCreate(end), "cudaEventCreate");
        }

        void start() {
            CudaSupport.check(cudart.cudaEventRecord(begin, stream), "cudaEventRecord");
        }

        double stopSeconds() {
            CudaSupport.check(cudart.cudaEventRecord(end, stream), "cudaEventRecord");
            CudaSupport.check(cudart.cudaEventSynchronize(end), "cudaEventSynchronize");
            float[] ms = {0};
            CudaSupport.check(cudart.cudaEventElapsedTime(ms, begin, end), "cudaEventElapsedTime");
            return ms[0] / 1e3;
        }

        @Override
        public void close() {
            cudart.cudaEventDestroy(begin);
            cudart.cudaEventDestroy(end);
            cudart.cudaStreamDestroy(stream);
        }
    }
}
