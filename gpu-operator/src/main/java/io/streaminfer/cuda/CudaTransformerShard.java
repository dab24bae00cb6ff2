package io.streaminfer.cuda;

import io.streaminfer.comm.Communicator;
import io.streaminfer.comm.NcclCommunicator;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ModelShard;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.StepBatch;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rank's share of a Llama-family transformer on one CUDA device: the same shard layout and the same
 * step as the CPU {@link io.streaminfer.model.TransformerShard} (column-parallel fused QKV and W1|W3,
 * row-parallel WO and W2 each followed by an allReduce, a vocabulary-split classifier whose slices are
 * all-gathered), with weights, KV cache and activations in device memory.
 *
 * <p>Everything of a step runs on one stream, the rank's NCCL stream, so layers and collectives are
 * ordered without host waits. The host copies in only the step's (slots, positions, tokens, logit rows)
 * and copies out only the logit rows that were asked for; it waits once, at the end of the step. The
 * sampler stays on the host, as on the CPU backend: the logits cross PCIe every step, (rows, vocab) fp32,
 * acceptable for now and the first thing to move to the device when large batches need it.
 *
 * <p>GEMMs go through cuBLAS; the rest (embedding gather, RMSNorm, RoPE plus the KV write, attention,
 * residual add, SwiGLU, bf16 conversion) are the small kernels of {@code transformer_kernels.cu}.
 * Not bitwise equal to the CPU backend (cuBLAS sums in its own order, as does NCCL's allReduce); the GPU
 * tests compare greedy tokens instead. CUDA graphs are not used (not measured; needs a GPU).
 *
 * <p>Used by one rank thread: the constructor and {@link #forward} must run on the same thread, which
 * makes the rank's device current.
 */
public final class CudaTransformerShard implements ModelShard {
    private static final Logger LOG = LoggerFactory.getLogger(CudaTransformerShard.class);
    /** Static shared memory the attention kernel uses besides its scores, and the per-block limit. */
    private static final int ATTENTION_STATIC_SHARED = CudaKernels.BLOCK * Float.BYTES;
    private static final int SHARED_LIMIT = 48 * 1024;

    private final ModelConfig config;
    private final ShardSpec shard;
    private final CudaOptions options;
    private final CudaMemoryBudget budget;
    private final int device;
    private final int slots;
    private final int positions;
    private final int maxRows;
    private final NcclCommunicator nccl;   // null at TP=1 without NCCL
    private final List<DeviceBuffer> buffers = new ArrayList<>();
    private CUstream_st stream;
    private boolean ownsStream;
    private cublasContext cublasHandle;
    private CudaKernels kernels;
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);

    /** (rows, cols) row-major at {@code address}: rows = output features, cols = input features. */
    private record Matrix(long address, int rows, int cols) {}

    private record Layer(long attentionNorm, Matrix qkv, Matrix wo, long ffnNorm, Matrix gateUp, Matrix w2,
                         long keys, long values) {}

    private Layer[] layers;
    private long embedding;      // (vocab, dim) fp32, replicated
    private long finalNorm;      // (dim)
    private Matrix classifier;   // (vocab_shard, dim)
    private long ropeCos;        // (position, head_size / 2)
    private long ropeSin;        // (position, head_size / 2)
    // Scratch for maxRows rows.
    private long x;              // (rows, dim) residual stream
    private long xb;             // (rows, dim) normed input
    private long qkv;            // (rows, query_width + 2 * kv_width)
    private long attention;      // (rows, query_width)
    private long projected;      // (rows, dim)
    private long gateUp;         // (rows, 2 * hidden_shard)
    private long hidden;         // (rows, hidden_shard)
    private long logitSlice;     // (rows, vocab_shard)
    private long gathered;       // (ranks, rows, vocab_shard)
    private long bf16Input;      // (rows, widest input) bf16 copy of a GEMM input
    private long stepInts;       // (4, maxRows): slots | positions | tokens | logit row indices
    private IntPointer hostInts;     // pinned (4, maxRows)
    private FloatPointer hostLogits; // pinned (rows, vocab)
    private boolean closed;

    /**
     * Checks that the shard fits the device, then uploads this rank's weights. Runs on the rank's thread.
     *
     * @param slots sequence slots of the KV cache
     * @param positions positions per slot (at most the model's context length)
     * @param maxRows most rows one step may carry
     * @throws IllegalStateException naming the missing library, or with the byte counts when it does not fit
     */
    public CudaTransformerShard(Checkpoint checkpoint, ShardSpec shard, Communicator communicator,
                                CudaOptions options, int slots, int positions, int maxRows) {
        if (communicator.size() != shard.size() || communicator.rank() != shard.rank()) {
            throw new IllegalArgumentException("communicator is rank " + communicator.rank() + " of "
                    + communicator.size() + " but the shard is rank " + shard.rank() + " of " + shard.size());
        }
        if (positions < 1 || positions > checkpoint.config().contextLength()) {
            throw new IllegalArgumentException("positions per slot must be within [1, "
                    + checkpoint.config().contextLength() + "], got " + positions);
        }
        if (slots < 1 || maxRows < 1) {
            throw new IllegalArgumentException("slots and maxRows must be >= 1, got " + slots + " and " + maxRows);
        }
        if ((long) positions * Float.BYTES + ATTENTION_STATIC_SHARED > SHARED_LIMIT) {
            throw new IllegalArgumentException("the CUDA attention kernel keeps one head's scores in shared memory: "
                    + "at most " + (SHARED_LIMIT - ATTENTION_STATIC_SHARED) / Float.BYTES + " positions per slot, got "
                    + positions);
        }
        CudaSupport.requireAvailable("the CUDA backend");
        this.config = checkpoint.config();
        this.shard = shard;
        this.options = options;
        this.slots = slots;
        this.positions = positions;
        this.maxRows = maxRows;
        this.device = options.deviceOf(shard.rank());
        if (communicator instanceof NcclCommunicator n) {
            if (n.device() != device) {
                throw new IllegalStateException("rank " + shard.rank() + ": its NCCL communicator runs on device "
                        + n.device() + " but device-base=" + options.deviceBase() + " puts the shard on device "
                        + device + "; the NCCL group binds rank r to device r, so use device-base=0 with it");
            }
            this.nccl = n;
        } else if (shard.size() > 1) {
            throw new IllegalStateException("the CUDA backend at TP=" + shard.size()
                    + " needs NCCL communicators (comm backend nccl), got " + communicator.getClass().getSimpleName());
        } else {
            this.nccl = null;
        }
        int devices = CudaSupport.deviceCount();
        if (device >= devices) {
            throw new IllegalStateException("rank " + shard.rank() + " needs CUDA device " + device + " but only "
                    + devices + " are present");
        }
        CudaSupport.check(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
        this.budget = CudaMemoryBudget.of(shard, options.precision(), slots, positions, maxRows);
        long[] memory = memoryInfo();
        String what = "rank " + shard.rank() + " of a " + config.dim() + "-dim, " + config.numberOfLayers()
                + "-layer model (" + options.precision() + ", " + slots + " slots x " + positions
                + " positions) on CUDA device " + device;
        budget.requireFits(memory[0], memory[1], what);
        try {
            setUp(checkpoint);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
        LOG.info("{}: {} ({} MiB free of {}), kernels for {}, weights {} MiB, KV cache {} MiB", what,
                deviceName(), memory[0] >> 20, memory[1] >> 20, kernels.arch(), budget.weightBytes() >> 20,
                budget.kvCacheBytes() >> 20);
    }

    private void setUp(Checkpoint checkpoint) {
        if (nccl != null) {
            stream = nccl.stream();
        } else {
            stream = new CUstream_st();
            CudaSupport.check(cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking), "cudaStreamCreate");
            ownsStream = true;
        }
        cublasHandle = new cublasContext();
        CudaSupport.checkCublas(cublas.cublasCreate_v2(cublasHandle), "cublasCreate");
        CudaSupport.checkCublas(cublas.cublasSetStream_v2(cublasHandle, stream), "cublasSetStream");
        // Default math: fp32 GEMMs stay fp32 (no TF32), bf16 ones use tensor cores with fp32 accumulation.
        CudaSupport.checkCublas(cublas.cublasSetMathMode(cublasHandle, cublas.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        kernels = new CudaKernels(device);

        int dim = config.dim();
        int headSize = config.headDim();
        embedding = upload("token embedding", CudaPrecision.FP32,
                new Block(checkpoint.tokenEmbedding(), dim, 0, config.vocabularySize(), 0, dim)).address();
        long layerFloats = (long) slots * positions * shard.kvWidth();
        long kv = allocate(2L * config.numberOfLayers() * layerFloats * Float.BYTES, "KV cache");
        layers = new Layer[config.numberOfLayers()];
        for (int l = 0; l < layers.length; l++) {
            CudaPrecision p = options.precision();
            Matrix qkvW = upload("layer " + l + " wq|wk|wv", p,
                    new Block(checkpoint.wq(l), dim, shard.headStart() * headSize, shard.queryWidth(), 0, dim),
                    new Block(checkpoint.wk(l), dim, shard.kvHeadStart() * headSize, shard.kvWidth(), 0, dim),
                    new Block(checkpoint.wv(l), dim, shard.kvHeadStart() * headSize, shard.kvWidth(), 0, dim));
            Matrix wo = upload("layer " + l + " wo", p,
                    new Block(checkpoint.wo(l), dim, 0, dim, shard.headStart() * headSize, shard.queryWidth()));
            Matrix w13 = upload("layer " + l + " w1|w3", p,
                    new Block(checkpoint.w1(l), dim, shard.hiddenStart(), shard.hidden(), 0, dim),
                    new Block(checkpoint.w3(l), dim, shard.hiddenStart(), shard.hidden(), 0, dim));
            Matrix w2 = upload("layer " + l + " w2", p,
                    new Block(checkpoint.w2(l), config.hiddenDim(), 0, dim, shard.hiddenStart(), shard.hidden()));
            long norms = uploadVector(checkpoint.attentionNorm(l), dim, checkpoint.ffnNorm(l));
            layers[l] = new Layer(norms, qkvW, wo, norms + 4L * dim, w13, w2,
                    kv + 2L * l * layerFloats * Float.BYTES, kv + (2L * l + 1) * layerFloats * Float.BYTES);
        }
        finalNorm = uploadVector(checkpoint.finalNorm(), dim, null);
        if (config.tiedEmbeddings() && options.precision() == CudaPrecision.FP32) {
            // The classifier is the embedding: its vocabulary slice is read in place.
            classifier = new Matrix(embedding + 4L * shard.vocabStart() * dim, shard.vocab(), dim);
        } else {
            classifier = upload("classifier", options.precision(),
                    new Block(checkpoint.classifier(), dim, shard.vocabStart(), shard.vocab(), 0, dim));
        }
        uploadRopeTables();

        int qkvWidth = shard.queryWidth() + 2 * shard.kvWidth();
        x = allocate(4L * maxRows * dim, "activations");
        xb = allocate(4L * maxRows * dim, "activations");
        projected = allocate(4L * maxRows * dim, "activations");
        qkv = allocate(4L * maxRows * qkvWidth, "activations");
        attention = allocate(4L * maxRows * shard.queryWidth(), "activations");
        gateUp = allocate(4L * maxRows * 2 * shard.hidden(), "activations");
        hidden = allocate(4L * maxRows * shard.hidden(), "activations");
        logitSlice = allocate(4L * maxRows * shard.vocab(), "logits");
        gathered = shard.size() > 1 ? allocate(4L * maxRows * config.vocabularySize(), "gathered logits") : 0;
        int widest = Math.max(Math.max(dim, shard.queryWidth()), shard.hidden());
        bf16Input = options.precision() == CudaPrecision.BF16 ? allocate(2L * maxRows * widest, "bf16 input") : 0;
        stepInts = allocate(4L * 4 * maxRows, "step indices");
        hostInts = new IntPointer(pinned(4L * 4 * maxRows)).capacity(4L * maxRows);
        hostLogits = new FloatPointer(pinned(4L * maxRows * config.vocabularySize()))
                .capacity((long) maxRows * config.vocabularySize());
    }

    @Override
    public void forward(StepBatch batch, float[] logits) {
        int rows = batch.rows();
        if (rows > maxRows) {
            throw new IllegalArgumentException("step of " + rows + " rows exceeds the budget of " + maxRows);
        }
        if (closed) {
            throw new IllegalStateException("forward() on a closed CUDA shard");
        }
        int logitRows = 0;
        for (int r = 0; r < rows; r++) {
            int token = batch.tokens()[r];
            if (token < 0 || token >= config.vocabularySize()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary");
            }
            if (batch.slots()[r] < 0 || batch.slots()[r] >= slots) {
                throw new IllegalArgumentException("slot " + batch.slots()[r] + " is outside [0, " + slots + ")");
            }
            if (batch.positions()[r] < 0 || batch.positions()[r] >= positions) {
                throw new IllegalArgumentException("position " + batch.positions()[r] + " is outside [0, "
                        + positions + ")");
            }
            hostInts.put(r, batch.slots()[r]);
            hostInts.put(maxRows + r, batch.positions()[r]);
            hostInts.put(2L * maxRows + r, token);
            if (batch.wantLogits()[r]) {
                hostInts.put(3L * maxRows + logitRows++, r);
            }
        }
        if (rows == 0) {
            return;
        }
        CudaSupport.check(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
        CudaSupport.check(cudart.cudaMemcpyAsync(DeviceBuffer.pointer(stepInts), hostInts, 4L * 4 * maxRows,
                cudart.cudaMemcpyHostToDevice, stream), "copy of the step's indices");
        long slotsD = stepInts;
        long positionsD = stepInts + 4L * maxRows;
        long tokensD = stepInts + 8L * maxRows;
        long logitIndexD = stepInts + 12L * maxRows;
        int dim = config.dim();
        int headSize = config.headDim();
        float eps = config.rmsNormEps();

        kernels.begin().ptr(x).ptr(embedding).ptr(tokensD).i32(dim).launch("embed_rows", rows, 1, 0, stream);
        for (Layer layer : layers) {
            // attention rmsnorm
            kernels.begin().ptr(xb).ptr(x).ptr(layer.attentionNorm).ptr(0).i32(dim).f32(eps)
                    .launch("rms_norm", rows, 1, 0, stream);
            // q, k, v for this rank's heads
            gemm(layer.qkv, xb, rows, qkv);
            // RoPE on q and k, then k and v into the cache at (slot, position)
            kernels.begin().ptr(qkv).ptr(layer.keys).ptr(layer.values).ptr(ropeCos).ptr(ropeSin).ptr(slotsD)
                    .ptr(positionsD).i32(shard.queryWidth()).i32(shard.kvWidth()).i32(headSize).i32(positions)
                    .i32(config.rope().layout() == io.streaminfer.model.RopeConfig.Layout.ADJACENT_PAIRS ? 1 : 0)
                    .launch("rope_store", rows, 1, 0, stream);
            // causal attention over the cache, after every row of the step has written its K/V
            kernels.begin().ptr(attention).ptr(qkv).ptr(layer.keys).ptr(layer.values).ptr(slotsD).ptr(positionsD)
                    .i32(shard.headStart()).i32(shard.kvHeadStart())
                    .i32(config.numberOfHeads() / config.numberOfKeyValueHeads()).i32(headSize)
                    .i32(shard.queryWidth()).i32(shard.kvWidth()).i32(positions)
                    .launch("attention", shard.heads(), rows, positions * Float.BYTES, stream);
            // output projection, summed over ranks; residual
            gemm(layer.wo, attention, rows, projected);
            allReduce(projected, (long) rows * dim);
            addInPlace(x, projected, rows * dim);
            // ffn rmsnorm, SwiGLU, down projection summed over ranks; residual
            kernels.begin().ptr(xb).ptr(x).ptr(layer.ffnNorm).ptr(0).i32(dim).f32(eps)
                    .launch("rms_norm", rows, 1, 0, stream);
            gemm(layer.gateUp, xb, rows, gateUp);
            kernels.begin().ptr(hidden).ptr(gateUp).i32(rows).i32(shard.hidden())
                    .launch("swiglu", CudaKernels.blocksFor((long) rows * shard.hidden()), 1, 0, stream);
            gemm(layer.w2, hidden, rows, projected);
            allReduce(projected, (long) rows * dim);
            addInPlace(x, projected, rows * dim);
        }
        if (logitRows == 0) {
            waitForStream();
            return;
        }
        // final norm of the rows that want logits, packed to the front; this rank's vocabulary slice
        kernels.begin().ptr(xb).ptr(x).ptr(finalNorm).ptr(logitIndexD).i32(dim).f32(eps)
                .launch("rms_norm", logitRows, 1, 0, stream);
        gemm(classifier, xb, logitRows, logitSlice);
        int vocab = config.vocabularySize();
        int vocabShard = shard.vocab();
        if (shard.size() == 1) {
            if (logits == null) {
                waitForStream();
                return;
            }
            copyToHost(logitSlice, (long) logitRows * vocab);
            hostLogits.get(logits, 0, logitRows * vocab);
            return;
        }
        // gathered is (rank, row, vocab_shard); logits wants (row, rank * vocab_shard)
        nccl.allGatherDevice(DeviceBuffer.pointer(logitSlice), DeviceBuffer.pointer(gathered),
                (long) logitRows * vocabShard);
        if (logits == null) {
            waitForStream();
            return;
        }
        copyToHost(gathered, (long) shard.size() * logitRows * vocabShard);
        for (int rank = 0; rank < shard.size(); rank++) {
            for (int r = 0; r < logitRows; r++) {
                hostLogits.position((long) (rank * logitRows + r) * vocabShard)
                        .get(logits, r * vocab + rank * vocabShard, vocabShard);
            }
        }
        hostLogits.position(0);
    }

    /**
     * y = x · Wᵀ for row-major x (rows, k), W (n, k), y (rows, n). cuBLAS is column-major: a row-major
     * (a, b) matrix is a column-major (b, a) one, so row-major W is column-major Wᵀ (k, n; ld k), x is
     * column-major xᵀ (k, rows; ld k), and we want column-major yᵀ (n, rows; ld n) = W · xᵀ =
     * op_T(Wᵀ) · op_N(xᵀ): transa = T, transb = N, m = n, n = rows, k = k.
     */
    private void gemm(Matrix w, long input, int rows, long output) {
        if (options.precision() == CudaPrecision.FP32) {
            CudaSupport.checkCublas(cublas.cublasSgemm_v2(cublasHandle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N,
                    w.rows(), rows, w.cols(), one, DeviceBuffer.floats(w.address()), w.cols(),
                    DeviceBuffer.floats(input), w.cols(), zero, DeviceBuffer.floats(output), w.rows()), "cublasSgemm");
            return;
        }
        long n = (long) rows * w.cols();
        kernels.begin().ptr(bf16Input).ptr(input).i32((int) n)
                .launch("to_bf16", CudaKernels.blocksFor(n), 1, 0, stream);
        CudaSupport.checkCublas(cublas.cublasGemmEx(cublasHandle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N,
                w.rows(), rows, w.cols(), one, DeviceBuffer.pointer(w.address()), cudart.CUDA_R_16BF, w.cols(),
                DeviceBuffer.pointer(bf16Input), cudart.CUDA_R_16BF, w.cols(), zero, DeviceBuffer.pointer(output),
                cudart.CUDA_R_32F, w.rows(), cublas.CUBLAS_COMPUTE_32F, cublas.CUBLAS_GEMM_DEFAULT), "cublasGemmEx(bf16)");
    }

    private void allReduce(long buffer, long count) {
        if (nccl != null && shard.size() > 1) {
            nccl.allReduceDevice(DeviceBuffer.pointer(buffer), count);
        }
    }

    private void addInPlace(long target, long addend, int n) {
        kernels.begin().ptr(target).ptr(addend).i32(n).launch("add_in_place", CudaKernels.blocksFor(n), 1, 0, stream);
    }

    private void copyToHost(long source, long floats) {
        CudaSupport.check(cudart.cudaMemcpyAsync(hostLogits, DeviceBuffer.pointer(source), 4L * floats,
                cudart.cudaMemcpyDeviceToHost, stream), "copy of the logits to the host");
        waitForStream();
    }

    /** Waits for the step; through the communicator when there is one, so a dead peer times out. */
    private void waitForStream() {
        if (nccl != null) {
            nccl.synchronize();
        } else {
            CudaSupport.check(cudart.cudaStreamSynchronize(stream), "CUDA step on device " + device);
        }
    }

    // ---- loading ----

    /** Rows [rowStart, rowStart + rows) and columns [colStart, colStart + cols) of a (?, srcCols) tensor. */
    private record Block(FloatBuffer source, int sourceCols, int rowStart, int rows, int colStart, int cols) {}

    /** Stacks the blocks (same width) into one device matrix at the given precision. */
    private Matrix upload(String what, CudaPrecision precision, Block... blocks) {
        int cols = blocks[0].cols();
        long totalRows = 0;
        for (Block b : blocks) {
            if (b.cols() != cols) {
                throw new IllegalArgumentException(what + ": blocks differ in width");
            }
            totalRows += b.rows();
        }
        long elements = totalRows * cols;
        long bytes = elements * precision.bytesPerWeight();
        long address = allocate(bytes, what);
        float[] row = new float[cols];
        short[] rowBits = new short[cols];
        Pointer staging = precision == CudaPrecision.FP32 ? new FloatPointer(elements) : new ShortPointer(elements);
        try {
            long at = 0;
            for (Block b : blocks) {
                for (int r = 0; r < b.rows(); r++) {
                    b.source().get((b.rowStart() + r) * b.sourceCols() + b.colStart(), row, 0, cols);
                    if (staging instanceof FloatPointer f) {
                        f.position(at).put(row, 0, cols);
                    } else {
                        for (int i = 0; i < cols; i++) {
                            rowBits[i] = Bf16.fromFloat(row[i]);
                        }
                        ((ShortPointer) staging).position(at).put(rowBits, 0, cols);
                    }
                    at += cols;
                }
            }
            staging.position(0);
            CudaSupport.check(cudart.cudaMemcpy(DeviceBuffer.pointer(address), staging, bytes,
                    cudart.cudaMemcpyHostToDevice), "upload of " + what);
        } finally {
            staging.close();
        }
        return new Matrix(address, (int) totalRows, cols);
    }

    /** Uploads one or two fp32 vectors of length n back to back. */
    private long uploadVector(FloatBuffer first, int n, FloatBuffer second) {
        int count = second == null ? 1 : 2;
        float[] values = new float[count * n];
        first.duplicate().get(values, 0, n);
        if (second != null) {
            second.duplicate().get(values, n, n);
        }
        return uploadFloats(values, "norm weights");
    }

    private long uploadFloats(float[] values, String what) {
        long address = allocate(4L * values.length, what);
        try (FloatPointer host = new FloatPointer(values)) {
            CudaSupport.check(cudart.cudaMemcpy(DeviceBuffer.pointer(address), host, 4L * values.length,
                    cudart.cudaMemcpyHostToDevice), "upload of " + what);
        }
        return address;
    }

    private void uploadRopeTables() {
        int headSize = config.headDim();
        int half = headSize / 2;
        float[] cos = new float[positions * half];
        float[] sin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                // The same float arithmetic as the CPU shard (and llama2.c), so the angles agree bitwise.
                float exponent = (2 * i) / (float) headSize;
                float frequency = 1.0f / (float) Math.pow(config.rope().theta(), exponent);
                float angle = p * frequency;
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        ropeCos = uploadFloats(cos, "rope cos table");
        ropeSin = uploadFloats(sin, "rope sin table");
    }

    private long allocate(long bytes, String what) {
        DeviceBuffer b = DeviceBuffer.allocate(bytes, what + " on device " + device);
        buffers.add(b);
        return b.address();
    }

    private static Pointer pinned(long bytes) {
        Pointer p = new Pointer();
        CudaSupport.check(cudart.cudaMallocHost(p, bytes), "cudaMallocHost(" + bytes + " bytes)");
        return p;
    }

    private long[] memoryInfo() {
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            CudaSupport.check(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo on device " + device);
            return new long[] {free.get(), total.get()};
        }
    }

    private String deviceName() {
        try (cudaDeviceProp prop = new cudaDeviceProp()) {
            CudaSupport.check(cudart.cudaGetDeviceProperties(prop, device), "cudaGetDeviceProperties");
            return prop.name().getString();
        }
    }

    // ---- ModelShard ----

    public int device() {
        return device;
    }

    public CudaOptions options() {
        return options;
    }

    @Override
    public long weightBytes() {
        return budget.weightBytes();
    }

    @Override
    public long kvCacheBytes() {
        return budget.kvCacheBytes();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        cudart.cudaSetDevice(device);
        if (stream != null) {
            cudart.cudaStreamSynchronize(stream);
        }
        for (DeviceBuffer b : buffers) {
            b.close();
        }
        buffers.clear();
        if (hostInts != null) {
            cudart.cudaFreeHost(hostInts);
        }
        if (hostLogits != null) {
            cudart.cudaFreeHost(hostLogits.position(0));
        }
        if (kernels != null) {
            kernels.close();
        }
        if (cublasHandle != null) {
            cublas.cublasDestroy_v2(cublasHandle);
        }
        if (ownsStream && stream != null) {
            cudart.cudaStreamDestroy(stream);
        }
        one.close();
        zero.close();
    }
}
