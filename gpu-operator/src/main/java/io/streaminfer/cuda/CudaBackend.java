package io.streaminfer.cuda;

import io.streaminfer.comm.Communicator;
import io.streaminfer.comm.DeviceCollectives;
import io.streaminfer.comm.StageLink;
import io.streaminfer.compute.ActivationBuffer;
import io.streaminfer.compute.AttentionShape;
import io.streaminfer.compute.BlockTables;
import io.streaminfer.compute.ComputeBackend;
import io.streaminfer.compute.EmbeddingTable;
import io.streaminfer.compute.KvCache;
import io.streaminfer.compute.KvGeometry;
import io.streaminfer.compute.PackedMatrix;
import io.streaminfer.compute.RotaryTable;
import io.streaminfer.compute.StepBatch;
import io.streaminfer.compute.WeightSlice;
import io.streaminfer.compute.WeightTensor;
import io.streaminfer.compute.WeightVector;

/**
 * The compute backend of one rank on one CUDA device: weights, KV cache and activations in device memory,
 * GEMMs through cuBLAS ({@link CudaGemm}), the rest through the small kernels of
 * {@code transformer_kernels.cu}. Everything of a step runs on one stream, the rank's NCCL stream when the
 * group has one, so layers and collectives are ordered without host waits; the host copies in the step's
 * (sequences, positions, tokens, logit rows, block tables) once and copies out only the logits asked for;
 * rows crossing pipeline stages go device to device where the link can ({@link CudaStageTransfer}).
 *
 * <p>Not bitwise equal to the CPU backends (cuBLAS and NCCL sum in their own orders), and not
 * batch-invariant; the GPU tests compare greedy tokens. Used by one rank thread: construction and every
 * call must run on the same thread, which makes the rank's device current.
 */
public final class CudaBackend implements ComputeBackend {
    /** Static shared memory the attention kernel uses besides its scores, and the per-block limit. */
    private static final int ATTENTION_STATIC_SHARED = CudaKernels.BLOCK * Float.BYTES;
    private static final int SHARED_LIMIT = 48 * 1024;

    /** A (rows, width) fp32 block of device memory: activations and vectors. */
    record DeviceArray(long address, int rows, int width) implements ActivationBuffer, WeightVector {
        @Override
        public int length() {
            return rows * width;
        }
    }

    private record DeviceEmbedding(long address, int rows, int width, long bytes) implements EmbeddingTable {}

    private record DeviceRotary(long cos, long sin, int positions, int pairs, boolean adjacentPairs)
            implements RotaryTable {}

    /**
     * (layer) -> keys and values of (block, position in block, kv_width), fp32: the pool of blocks of
     * {@link KvGeometry}, addressed through the step's block tables as on the CPU.
     */
    private record DeviceKvCache(long base, int layers, KvGeometry geometry, int kvWidth) implements KvCache {
        long keys(int layer) {
            return base + 2L * layer * layerBytes();
        }

        long values(int layer) {
            return keys(layer) + layerBytes();
        }

        long layerBytes() {
            return 4L * geometry.blocks() * geometry.blockSize() * kvWidth;
        }

        @Override
        public long bytes() {
            return 2L * layers * layerBytes();
        }
    }

    private final CudaOptions options;
    private final CudaDevice device;
    private final CudaGemm gemm;
    private final DeviceCollectives collectives; // null at TP=1 without NCCL
    private final CudaKernels kernels;
    private final CudaStageTransfer stageTransfer;
    private int maxRows;                 // the most rows any activation buffer holds
    private int tableWidth;              // blocks per sequence: the width the kernels read the tables with
    private int tableSequences;          // sequences the tables hold: a step's, or every slot of a slot cache
    private CudaStepIndices indices;     // made at the first step, once every buffer and the KV cache exist
    private StepBatch step;
    private BlockTables stepTables;
    private long logitSlice;             // (maxRows, vocab_shard)
    private long gathered;               // (ranks, maxRows, vocab_shard)
    private CudaHostLogits hostLogits;   // pinned (ranks * maxRows * vocab_shard)

    CudaBackend(CudaOptions options, Communicator communicator) {
        this.options = options;
        int rank = communicator.rank();
        int deviceIndex = options.deviceOf(rank);
        this.collectives = communicator.deviceCollectives().orElse(null);
        if (collectives != null && collectives.device() != deviceIndex) {
            throw new IllegalStateException("rank " + rank + ": its NCCL communicator runs on device "
                    + collectives.device() + " but device-base=" + options.deviceBase() + " puts it on device "
                    + deviceIndex + "; the NCCL group binds rank r to device r, so use device-base=0 with it");
        }
        if (collectives == null && communicator.size() > 1) {
            throw new IllegalStateException("the CUDA backend at TP=" + communicator.size()
                    + " needs NCCL communicators (comm backend nccl), got " + communicator.getClass().getSimpleName());
        }
        this.device = CudaDevice.open(deviceIndex, rank, collectives == null ? null : collectives.stream());
        try {
            this.kernels = new CudaKernels(deviceIndex);
            this.gemm = new CudaGemm(device, kernels, options.precision());
            this.stageTransfer = new CudaStageTransfer(device, this::waitForComputeStream);
        } catch (RuntimeException | Error e) {
            device.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public boolean batchInvariant() {
        return false;
    }

    // ---- memory ----

    @Override
    public ActivationBuffer activations(String what, int rows, int width) {
        maxRows = Math.max(maxRows, rows);
        return new DeviceArray(device.allocate(4L * rows * width, what), rows, width);
    }

    @Override
    public PackedMatrix matrix(String what, int segments, WeightSlice... blocks) {
        return gemm.upload(what, blocks);
    }

    @Override
    public WeightVector vector(String what, float[] values) {
        return new DeviceArray(device.upload(values, what), 1, values.length);
    }

    @Override
    public RotaryTable rotaryTable(float[] cos, float[] sin, int positions, int pairs, boolean adjacentPairs) {
        return new DeviceRotary(device.upload(cos, "rope cos table"), device.upload(sin, "rope sin table"),
                positions, pairs, adjacentPairs);
    }

    @Override
    public EmbeddingTable embedding(WeightTensor table) {
        // fp32 on the device: the gather copies rows, whatever the checkpoint stores
        float[] row = new float[table.cols()];
        long address = device.allocate(4L * table.rows() * table.cols(), "token embedding");
        try (org.bytedeco.javacpp.FloatPointer staging = new org.bytedeco.javacpp.FloatPointer((long) table.cols())) {
            for (int r = 0; r < table.rows(); r++) {
                table.readRow(r, 0, table.cols(), row, 0);
                staging.put(row, 0, row.length);
                device.copyToDevice(address + 4L * r * table.cols(), staging, 4L * table.cols(), "token embedding");
            }
        }
        return new DeviceEmbedding(address, table.rows(), table.cols(), 4L * table.rows() * table.cols());
    }

    @Override
    public KvCache kvCache(int layers, KvGeometry geometry, int kvHeads, int headDim) {
        int positions = geometry.positions();
        if ((long) positions * Float.BYTES + ATTENTION_STATIC_SHARED > SHARED_LIMIT) {
            throw new IllegalArgumentException("the CUDA attention kernel keeps one head's scores in shared memory: "
                    + "at most " + (SHARED_LIMIT - ATTENTION_STATIC_SHARED) / Float.BYTES + " positions per sequence, "
                    + "got " + positions);
        }
        if (indices != null) {
            throw new IllegalStateException("the KV cache must be made before the first step");
        }
        int kvWidth = kvHeads * headDim;
        long bytes = 2L * layers * 4L * geometry.blocks() * geometry.blockSize() * kvWidth;
        tableWidth = geometry.blocksPerSequence();
        tableSequences = geometry.blocks() / tableWidth;
        return new DeviceKvCache(device.allocate(bytes, "KV cache"), layers, geometry, kvWidth);
    }

    // ---- one step ----

    @Override
    public void beginStep(StepBatch batch) {
        if (indices == null) {
            indices = new CudaStepIndices(device, maxRows, Math.max(tableSequences, maxRows), tableWidth);
        }
        BlockTables tables = tablesOf(batch);
        // the last step's send has read the rows before this step overwrites them
        stageTransfer.beforeStep();
        indices.upload(batch, tables);
        step = batch;
        stepTables = tables;
    }

    /** The tables of a step with block tables; those of fixed slots otherwise (the tableWidth-wide kind). */
    private BlockTables tablesOf(StepBatch batch) {
        if (batch.blockTables() != null) {
            return batch.blockTables();
        }
        int sequences = 0;
        for (int s : batch.sequences()) {
            sequences = Math.max(sequences, s + 1);
        }
        return BlockTables.contiguous(sequences, tableWidth);
    }

    @Override
    public void embed(ActivationBuffer x, EmbeddingTable table, StepBatch batch) {
        requireStep(batch);
        DeviceEmbedding e = (DeviceEmbedding) table;
        for (int token : batch.tokens()) {
            if (token < 0 || token >= e.rows()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary");
            }
        }
        kernels.begin().ptr(array(x).address()).ptr(e.address()).ptr(indices.tokens()).i32(e.width())
                .launch("embed_rows", batch.rows(), 1, 0, device.stream());
    }

    @Override
    public void rmsNorm(ActivationBuffer out, ActivationBuffer in, WeightVector weight, float eps, int rows) {
        kernels.begin().ptr(array(out).address()).ptr(array(in).address()).ptr(array(weight).address()).ptr(0)
                .i32(in.width()).f32(eps).launch("rms_norm", rows, 1, 0, device.stream());
    }

    @Override
    public void rmsNormLogitRows(ActivationBuffer out, ActivationBuffer in, WeightVector weight, float eps,
                                 StepBatch batch) {
        requireStep(batch);
        kernels.begin().ptr(array(out).address()).ptr(array(in).address()).ptr(array(weight).address())
                .ptr(indices.logitRowIndex()).i32(in.width()).f32(eps)
                .launch("rms_norm", batch.logitRows(), 1, 0, device.stream());
    }

    @Override
    public void matmul(ActivationBuffer x, int rows, PackedMatrix w, ActivationBuffer out) {
        gemm.multiply(w, array(x).address(), rows, array(out).address());
    }

    @Override
    public void addBias(ActivationBuffer x, int rows, WeightVector bias) {
        kernels.begin().ptr(array(x).address()).ptr(array(bias).address()).i32(x.width()).i32(bias.length())
                .launch("add_bias", rows, 1, 0, device.stream());
    }

    @Override
    public void headRmsNorm(ActivationBuffer x, int rows, int offset, int width, int headDim, WeightVector weight,
                            float eps) {
        kernels.begin().ptr(array(x).address()).ptr(array(weight).address()).i32(x.width()).i32(offset).i32(headDim)
                .f32(eps).launch("head_rms_norm", width / headDim, rows, 0, device.stream());
    }

    @Override
    public void ropeAndStore(ActivationBuffer qkv, StepBatch batch, RotaryTable rope, KvCache cache, int layer,
                             AttentionShape shape) {
        requireStep(batch);
        DeviceKvCache kv = (DeviceKvCache) cache;
        DeviceRotary table = (DeviceRotary) rope;
        if (layer == 0) {
            CudaStepIndices.checkRows(batch, stepTables, kv.geometry());
        }
        kernels.begin().ptr(array(qkv).address()).ptr(kv.keys(layer)).ptr(kv.values(layer)).ptr(table.cos())
                .ptr(table.sin()).ptr(indices.sequences()).ptr(indices.positions()).ptr(indices.blockTables()).i32(tableWidth)
                .i32(kv.geometry().blockSize()).i32(shape.queryWidth()).i32(shape.kvWidth()).i32(shape.headDim())
                .i32(table.adjacentPairs() ? 1 : 0)
                .launch("rope_store", batch.rows(), 1, 0, device.stream());
    }

    @Override
    public void attention(ActivationBuffer out, ActivationBuffer qkv, KvCache cache, int layer, StepBatch batch,
                          AttentionShape shape) {
        requireStep(batch);
        DeviceKvCache kv = (DeviceKvCache) cache;
        kernels.begin().ptr(array(out).address()).ptr(array(qkv).address()).ptr(kv.keys(layer)).ptr(kv.values(layer))
                .ptr(indices.sequences()).ptr(indices.positions()).ptr(indices.blockTables()).i32(tableWidth).i32(kv.geometry().blockSize())
                .i32(shape.headStart()).i32(shape.kvHeadStart()).i32(shape.groupSize()).i32(shape.headDim())
                .i32(shape.queryWidth()).i32(shape.kvWidth())
                .launch("attention", shape.heads(), batch.rows(), kv.geometry().positions() * Float.BYTES,
                        device.stream());
    }

    @Override
    public void swiGlu(ActivationBuffer gateUp, ActivationBuffer out, int rows, int width) {
        kernels.begin().ptr(array(out).address()).ptr(array(gateUp).address()).i32(rows).i32(width)
                .launch("swiglu", CudaKernels.blocksFor((long) rows * width), 1, 0, device.stream());
    }

    @Override
    public void add(ActivationBuffer target, ActivationBuffer addend, int rows) {
        int n = rows * target.width();
        kernels.begin().ptr(array(target).address()).ptr(array(addend).address()).i32(n)
                .launch("add_in_place", CudaKernels.blocksFor(n), 1, 0, device.stream());
    }

    @Override
    public void allReduce(Communicator communicator, ActivationBuffer x, int rows) {
        if (collectives != null && communicator.size() > 1) {
            collectives.allReduceDevice(DeviceBuffer.pointer(array(x).address()), (long) rows * x.width());
        }
    }

    @Override
    public void logits(ActivationBuffer normed, int rows, PackedMatrix classifierSlice, Communicator communicator,
                       int vocabulary, float[] logits) {
        int vocabShard = classifierSlice.rows();
        int ranks = communicator.size();
        if (logitSlice == 0) {
            logitSlice = device.allocate(4L * maxRows * vocabShard, "logits");
            gathered = ranks > 1 ? device.allocate(4L * ranks * maxRows * vocabShard, "gathered logits") : 0;
            hostLogits = new CudaHostLogits(device, (long) ranks * maxRows * vocabShard);
        }
        gemm.multiply(classifierSlice, array(normed).address(), rows, logitSlice);
        if (ranks == 1) {
            if (logits != null) {
                hostLogits.copy(logitSlice, (long) rows * vocabShard, this::waitForStream);
                hostLogits.into(logits, rows, vocabShard, 1, vocabulary);
            }
            return;
        }
        // gathered is (rank, row, vocab_shard); logits wants (row, rank * vocab_shard)
        collectives.allGatherDevice(DeviceBuffer.pointer(logitSlice), DeviceBuffer.pointer(gathered),
                (long) rows * vocabShard);
        if (logits != null) {
            hostLogits.copy(gathered, (long) ranks * rows * vocabShard, this::waitForStream);
            hostLogits.into(logits, rows, vocabShard, ranks, vocabulary);
        }
    }

    /** Straight from device memory over a link with a device side; through the host otherwise. */
    @Override
    public void sendRows(ActivationBuffer x, int rows, StageLink link) {
        stageTransfer.send(array(x).address(), rows * x.width(), array(x).length(), link);
    }

    @Override
    public void receiveRows(ActivationBuffer x, int rows, StageLink link) {
        stageTransfer.receive(array(x).address(), rows * x.width(), array(x).length(), link);
    }

    @Override
    public void endStep(Communicator communicator) {
        waitForStream();
        step = null;
        stepTables = null;
    }

    /**
     * Waits for the step: first for a receive from the previous stage that the compute stream waits on,
     * within the link's timeout (so a dead sender fails the link rather than hanging here), then for the
     * compute stream.
     */
    private void waitForStream() {
        stageTransfer.afterReceive();
        waitForComputeStream();
    }

    /** Through the communicator when there is one, so a dead peer times out. */
    private void waitForComputeStream() {
        if (collectives != null) {
            collectives.synchronize();
        } else {
            device.synchronize();
        }
    }

    private void requireStep(StepBatch batch) {
        if (step != batch) {
            throw new IllegalStateException("beginStep was not called with this step's batch");
        }
    }

    private static DeviceArray array(Object buffer) {
        if (!(buffer instanceof DeviceArray a)) {
            throw new IllegalArgumentException("the CUDA backend got a buffer of another backend ("
                    + buffer.getClass().getSimpleName() + ")");
        }
        return a;
    }

    /** Bytes this backend holds on its device. */
    public long deviceBytes() {
        return device.allocatedBytes();
    }

    @Override
    public void close() {
        device.select();
        device.synchronizeQuietly();
        stageTransfer.close(); // the step indices' pinned memory is the device's, freed with it
        if (hostLogits != null) {
            hostLogits.close();
        }
        gemm.close();
        kernels.close();
        device.close();
    }
}
