package io.streaminfer.compute;

import io.streaminfer.comm.Communicator;
import io.streaminfer.comm.StageLink;

/**
 * The CPU backend: buffers are heap float arrays, products go to a {@link MatmulKernel} (vector, scalar or
 * OpenBLAS), and everything else runs here with {@link VectorOps}' fixed-order helpers, so the kernel
 * alone decides whether the result is batch-invariant. Attention and SwiGLU rows run on the kernel's own
 * threads.
 */
public final class CpuBackend implements ComputeBackend {

    /** A heap (rows, width) array: activations, vectors and rotary tables on the CPU. */
    record Floats(float[] data, int rows, int width) implements ActivationBuffer, WeightVector {
        @Override
        public int length() {
            return data.length;
        }
    }

    private record Rotary(float[] cos, float[] sin, int positions, int pairs, boolean adjacentPairs)
            implements RotaryTable {}

    /** The embedding read in place from the checkpoint: nothing is copied. */
    private record InPlaceEmbedding(WeightTensor table) implements EmbeddingTable {
        @Override public int rows() { return table.rows(); }
        @Override public int width() { return table.cols(); }
        @Override public long bytes() { return 0; }
    }

    private final MatmulKernel kernel;
    private CpuAttention.Scratch[] attentionScratch = new CpuAttention.Scratch[0]; // (kernel threads)
    private float[] logitSlice = new float[0];    // (rows, vocab_shard), only at TP > 1
    private float[] gatherScratch = new float[0]; // (rows, vocab) on ranks that do not sample

    public CpuBackend(MatmulKernel kernel) {
        this.kernel = kernel;
    }

    @Override
    public String name() {
        return kernel.name();
    }

    @Override
    public boolean batchInvariant() {
        return kernel.batchInvariant();
    }

    // ---- memory ----

    @Override
    public ActivationBuffer activations(String what, int rows, int width) {
        return new Floats(new float[Math.multiplyExact(rows, width)], rows, width);
    }

    @Override
    public PackedMatrix matrix(String what, int segments, WeightSlice... blocks) {
        return kernel.pack(segments, blocks);
    }

    @Override
    public WeightVector vector(String what, float[] values) {
        return new Floats(values.clone(), 1, values.length);
    }

    @Override
    public RotaryTable rotaryTable(float[] cos, float[] sin, int positions, int pairs, boolean adjacentPairs) {
        return new Rotary(cos.clone(), sin.clone(), positions, pairs, adjacentPairs);
    }

    @Override
    public EmbeddingTable embedding(WeightTensor table) {
        return new InPlaceEmbedding(table);
    }

    @Override
    public KvCache kvCache(int layers, KvGeometry geometry, int kvHeads, int headDim) {
        // rounded up to whole blocks: scoring writes every lane of the last key run
        int blocked = geometry.blocksPerSequence() * geometry.blockSize();
        if (attentionScratch.length == 0 || attentionScratch[0].scores().length < blocked) {
            attentionScratch = new CpuAttention.Scratch[kernel.parallelism()];
            for (int i = 0; i < attentionScratch.length; i++) {
                attentionScratch[i] = CpuAttention.Scratch.forContext(geometry);
            }
        }
        return new CpuKvCache(layers, geometry, kvHeads * headDim, headDim);
    }

    // ---- one step ----

    @Override
    public void beginStep(StepBatch batch) {
        // the arrays of the batch are read where they are
    }

    @Override
    public void embed(ActivationBuffer x, EmbeddingTable table, StepBatch batch) {
        float[] out = data(x);
        WeightTensor tensor = ((InPlaceEmbedding) table).table();
        int dim = tensor.cols();
        for (int r = 0; r < batch.rows(); r++) {
            int token = batch.tokens()[r];
            if (token < 0 || token >= tensor.rows()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary");
            }
            tensor.readRow(token, 0, dim, out, r * dim);
        }
    }

    @Override
    public void rmsNorm(ActivationBuffer out, ActivationBuffer in, WeightVector weight, float eps, int rows) {
        int dim = in.width();
        float[] o = data(out);
        float[] i = data(in);
        float[] w = data(weight);
        for (int r = 0; r < rows; r++) {
            rmsNormRow(o, r * dim, i, r * dim, w, dim, eps);
        }
    }

    @Override
    public void rmsNormLogitRows(ActivationBuffer out, ActivationBuffer in, WeightVector weight, float eps,
                                 StepBatch batch) {
        int dim = in.width();
        float[] o = data(out);
        float[] i = data(in);
        float[] w = data(weight);
        int packed = 0;
        for (int r = 0; r < batch.rows(); r++) {
            if (batch.wantLogits()[r]) {
                rmsNormRow(o, packed++ * dim, i, r * dim, w, dim, eps);
            }
        }
    }

    private static void rmsNormRow(float[] out, int outOffset, float[] in, int inOffset, float[] weight, int n,
                                   float eps) {
        float ss = VectorOps.sumOfSquares(in, inOffset, n);
        float scale = 1.0f / (float) Math.sqrt(ss / n + eps);
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = weight[i] * (scale * in[inOffset + i]);
        }
    }

    @Override
    public void matmul(ActivationBuffer x, int rows, PackedMatrix w, ActivationBuffer out) {
        kernel.matmul(data(x), rows, w, data(out));
    }

    @Override
    public void addBias(ActivationBuffer x, int rows, WeightVector bias) {
        float[] v = data(x);
        float[] b = data(bias);
        int width = x.width();
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < b.length; i++) {
                v[r * width + i] += b[i];
            }
        }
    }

    @Override
    public void headRmsNorm(ActivationBuffer x, int rows, int offset, int width, int headDim, WeightVector weight,
                            float eps) {
        float[] v = data(x);
        float[] w = data(weight);
        int rowWidth = x.width();
        for (int r = 0; r < rows; r++) {
            for (int head = 0; head < width; head += headDim) {
                int at = r * rowWidth + offset + head;
                rmsNormRow(v, at, v, at, w, headDim, eps);
            }
        }
    }

    @Override
    public void ropeAndStore(ActivationBuffer qkv, StepBatch batch, RotaryTable rope, KvCache cache, int layer,
                             AttentionShape shape) {
        float[] v = data(qkv);
        Rotary table = (Rotary) rope;
        CpuKvCache kv = (CpuKvCache) cache;
        BlockTables tables = kv.geometry().tablesOf(batch);
        int blockSize = kv.geometry().blockSize();
        int rowWidth = shape.qkvWidth();
        for (int r = 0; r < batch.rows(); r++) {
            int pos = batch.positions()[r];
            rotate(v, r * rowWidth, shape.queryWidth(), pos, table, shape.headDim());
            rotate(v, r * rowWidth + shape.queryWidth(), shape.kvWidth(), pos, table, shape.headDim());
            int kOffset = r * rowWidth + shape.queryWidth();
            kv.write(layer, tables.block(batch.sequences()[r], pos / blockSize), pos % blockSize, v, kOffset,
                    kOffset + shape.kvWidth());
        }
    }

    /** Rotary embedding of {@code width} features (whole heads) at {@code offset}, for position {@code pos}. */
    private static void rotate(float[] v, int offset, int width, int pos, Rotary table, int headDim) {
        int half = table.pairs();
        int at = pos * half;
        for (int head = 0; head < width; head += headDim) {
            int base = offset + head;
            for (int i = 0; i < half; i++) {
                float cos = table.cos()[at + i];
                float sin = table.sin()[at + i];
                int a = table.adjacentPairs() ? base + 2 * i : base + i;
                int b = table.adjacentPairs() ? a + 1 : a + half;
                float v0 = v[a];
                float v1 = v[b];
                v[a] = v0 * cos - v1 * sin;
                v[b] = v0 * sin + v1 * cos;
            }
        }
    }

    @Override
    public void attention(ActivationBuffer out, ActivationBuffer qkv, KvCache cache, int layer, StepBatch batch,
                          AttentionShape shape) {
        float[] o = data(out);
        float[] v = data(qkv);
        CpuKvCache kv = (CpuKvCache) cache;
        BlockTables tables = kv.geometry().tablesOf(batch);
        int rows = batch.rows();
        int heads = shape.heads();
        // (row, head) pairs are independent, so the kernel's threads share them: by rows alone, a single row
        // (batch 1) ran on one thread while the other waited, 18% of a stories15M decode step
        int units = rows * heads;
        kernel.parallel((part, parts) -> {
            int lo = (int) ((long) units * part / parts);
            int hi = (int) ((long) units * (part + 1) / parts);
            for (int u = lo; u < hi; ) {
                int r = u / heads;
                int headHi = Math.min(heads, u % heads + (hi - u));
                CpuAttention.attend(kv, layer, tables, batch.sequences()[r], batch.positions()[r], v,
                        r * shape.qkvWidth(), o, r * shape.queryWidth(), attentionScratch[part], shape, u % heads,
                        headHi);
                u += headHi - u % heads;
            }
        });
    }

    @Override
    public void swiGlu(ActivationBuffer gateUp, ActivationBuffer out, int rows, int width) {
        float[] g = data(gateUp);
        float[] h = data(out);
        kernel.parallel((part, parts) -> swiGluRows(g, h, rows * part / parts, rows * (part + 1) / parts, width));
    }

    /** hidden = silu(gate) * up for rows [from, to); gateUp rows hold (gate | up). */
    private static void swiGluRows(float[] gateUp, float[] hidden, int from, int to, int width) {
        for (int r = from; r < to; r++) {
            int g = r * 2 * width;
            int h = r * width;
            for (int i = 0; i < width; i++) {
                hidden[h + i] = -gateUp[g + i];
            }
            VectorOps.expShifted(hidden, h, width, 0f); // exp(-gate)
            for (int i = 0; i < width; i++) {
                float gate = gateUp[g + i];
                float silu = gate * (1.0f / (1.0f + hidden[h + i]));
                hidden[h + i] = silu * gateUp[g + width + i];
            }
        }
    }

    @Override
    public void add(ActivationBuffer target, ActivationBuffer addend, int rows) {
        float[] t = data(target);
        float[] a = data(addend);
        int n = rows * target.width();
        for (int i = 0; i < n; i++) {
            t[i] += a[i];
        }
    }

    @Override
    public void allReduce(Communicator communicator, ActivationBuffer x, int rows) {
        if (communicator.size() > 1) {
            communicator.allReduce(data(x), 0, rows * x.width());
        }
    }

    @Override
    public void logits(ActivationBuffer normed, int rows, PackedMatrix classifierSlice, Communicator communicator,
                       int vocabulary, float[] logits) {
        if (communicator.size() == 1) {
            // one rank's slice is the whole vocabulary: write it straight into the caller's rows
            if (logits != null) {
                kernel.matmul(data(normed), rows, classifierSlice, logits);
            }
            return;
        }
        int vocabShard = classifierSlice.rows();
        if (logitSlice.length < rows * vocabShard) {
            logitSlice = new float[normed.rows() * vocabShard];
        }
        float[] part = logitSlice;
        kernel.matmul(data(normed), rows, classifierSlice, part);
        // One gather per row puts every rank's slice straight where the (row, vocab) layout wants it: one
        // collective for all rows would leave (rank, row, slice) to reorder, an extra pass over 8 MB on the
        // driver at batch 64 with a 32k vocabulary. Ranks that do not sample gather into scratch.
        float[] target = logits;
        if (target == null) {
            if (gatherScratch.length < rows * vocabulary) {
                gatherScratch = new float[normed.rows() * vocabulary];
            }
            target = gatherScratch;
        }
        for (int r = 0; r < rows; r++) {
            communicator.allGather(part, r * vocabShard, vocabShard, target, r * vocabulary);
        }
    }

    @Override
    public void sendRows(ActivationBuffer x, int rows, StageLink link) {
        link.send(data(x), 0, rows * x.width());
    }

    @Override
    public void receiveRows(ActivationBuffer x, int rows, StageLink link) {
        link.recv(data(x), 0, rows * x.width());
    }

    @Override
    public void endStep(Communicator communicator) {
        // every operation has finished when it returns
    }

    private static float[] data(Object buffer) {
        if (!(buffer instanceof Floats f)) {
            throw new IllegalArgumentException("the CPU backend got a buffer of another backend ("
                    + buffer.getClass().getSimpleName() + ")");
        }
        return f.data();
    }

    @Override
    public void close() {
        kernel.close();
    }
}
