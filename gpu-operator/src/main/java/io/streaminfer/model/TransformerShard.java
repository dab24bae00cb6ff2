package io.streaminfer.model;

import io.streaminfer.comm.Communicator;
import io.streaminfer.compute.ComputeBackend;
import io.streaminfer.compute.VectorOps;
import java.nio.FloatBuffer;

/**
 * One rank's share of a Llama-family transformer: its shard of every layer, its KV-cache shard, and the
 * scratch buffers of a forward step. Used by one rank thread; the ranks of a group call
 * {@link #forward} with the same {@link StepBatch} and meet in the collectives.
 *
 * <p>Per layer: RMSNorm → column-parallel QKV → RoPE → attention over this rank's heads → row-parallel
 * WO (allReduce) → residual → RMSNorm → column-parallel W1|W3 → SwiGLU → row-parallel W2 (allReduce) →
 * residual. Then the final norm and the vocabulary-split classifier, whose slices are all-gathered.
 *
 * <p>Every row is computed on its own, in a fixed order: batching and TP degree change no bit.
 */
public final class TransformerShard implements ModelShard {

    private final ModelConfig config;
    private final ShardSpec shard;
    private final Communicator communicator;
    private final ComputeBackend backend;
    private final FloatBuffer tokenEmbedding; // (vocab, dim), replicated: read in place from the checkpoint
    private final Layer[] layers;
    private final float[] finalNorm;          // (dim)
    private final ColumnParallelLinear classifier; // rows [vocabStart, vocabStart + vocab)
    private final KvCacheShard kvCache;
    private final float[] ropeCos;            // (position, head_size / 2)
    private final float[] ropeSin;            // (position, head_size / 2)
    private final int maxRows;

    // Scratch, sized for maxRows rows.
    private final float[] x;          // (rows, dim) residual stream
    private final float[] xb;         // (rows, dim) normed input
    private final float[] qkv;        // (rows, query_width + 2 * kv_width)
    private final float[] attention;  // (rows, query_width)
    private final float[] projected;  // (rows, dim) output of a row-parallel layer
    private final float[] gateUp;     // (rows, 2 * hidden_shard)
    private final float[] hidden;     // (rows, hidden_shard)
    private final float[][] scores;   // (backend threads, positions) attention weights of one head
    private final float[] logitSlice; // (rows, vocab_shard)
    private final float[] gathered;   // (ranks, rows, vocab_shard)

    private record Layer(float[] attentionNorm, ColumnParallelLinear qkv, RowParallelLinear wo,
                         float[] ffnNorm, ColumnParallelLinear gateUp, RowParallelLinear w2) {}

    /**
     * Cuts this rank's shard out of the checkpoint and packs it for the backend.
     *
     * @param slots sequence slots of the KV cache
     * @param positions positions per slot (at most the model's context length)
     * @param maxRows most rows one step may carry
     */
    public TransformerShard(Checkpoint checkpoint, ShardSpec shard, Communicator communicator,
                            ComputeBackend backend, int slots, int positions, int maxRows) {
        if (communicator.size() != shard.size() || communicator.rank() != shard.rank()) {
            throw new IllegalArgumentException("communicator is rank " + communicator.rank() + " of "
                    + communicator.size() + " but the shard is rank " + shard.rank() + " of " + shard.size());
        }
        if (positions < 1 || positions > checkpoint.config().contextLength()) {
            throw new IllegalArgumentException("positions per slot must be within [1, "
                    + checkpoint.config().contextLength() + "], got " + positions);
        }
        this.config = checkpoint.config();
        this.shard = shard;
        this.communicator = communicator;
        this.backend = backend;
        this.maxRows = maxRows;
        int dim = config.dim();
        int headSize = config.headDim();
        int segments = shard.reductionSegments();

        this.tokenEmbedding = checkpoint.tokenEmbedding();
        this.layers = new Layer[config.numberOfLayers()];
        for (int l = 0; l < layers.length; l++) {
            ColumnParallelLinear qkvLinear = new ColumnParallelLinear(backend, dim, segments,
                    new ColumnParallelLinear.RowBlock(checkpoint.wq(l), shard.headStart() * headSize, shard.queryWidth()),
                    new ColumnParallelLinear.RowBlock(checkpoint.wk(l), shard.kvHeadStart() * headSize, shard.kvWidth()),
                    new ColumnParallelLinear.RowBlock(checkpoint.wv(l), shard.kvHeadStart() * headSize, shard.kvWidth()));
            RowParallelLinear wo = new RowParallelLinear(backend, communicator, checkpoint.wo(l), dim, dim,
                    shard.headStart() * headSize, shard.queryWidth(), shard.localReductionSegments());
            ColumnParallelLinear gateUpLinear = new ColumnParallelLinear(backend, dim, segments,
                    new ColumnParallelLinear.RowBlock(checkpoint.w1(l), shard.hiddenStart(), shard.hidden()),
                    new ColumnParallelLinear.RowBlock(checkpoint.w3(l), shard.hiddenStart(), shard.hidden()));
            RowParallelLinear w2 = new RowParallelLinear(backend, communicator, checkpoint.w2(l), dim,
                    config.hiddenDim(), shard.hiddenStart(), shard.hidden(), shard.localReductionSegments());
            layers[l] = new Layer(copy(checkpoint.attentionNorm(l), dim), qkvLinear, wo,
                    copy(checkpoint.ffnNorm(l), dim), gateUpLinear, w2);
        }
        this.finalNorm = copy(checkpoint.finalNorm(), dim);
        // The classifier is split by vocabulary rows. Each rank computes its logit slice and the group
        // all-gathers full rows: the sampler then sees the whole distribution (top-p, top-k, logprobs and
        // scoring need its normaliser), runs once on the driver exactly as at TP=1, and the gather costs
        // (rows x vocab) floats per step, small next to the classifier product itself.
        this.classifier = new ColumnParallelLinear(backend, dim, segments,
                new ColumnParallelLinear.RowBlock(checkpoint.classifier(), shard.vocabStart(), shard.vocab()));
        this.kvCache = new KvCacheShard(config.numberOfLayers(), slots, positions, shard.kvWidth(), headSize);

        int half = headSize / 2;
        this.ropeCos = new float[positions * half];
        this.ropeSin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                // Float arithmetic as the llama2.c reference does it, so greedy tokens match it.
                float exponent = (2 * i) / (float) headSize;
                float frequency = 1.0f / (float) Math.pow(config.rope().theta(), exponent);
                float angle = p * frequency;
                ropeCos[p * half + i] = (float) Math.cos(angle);
                ropeSin[p * half + i] = (float) Math.sin(angle);
            }
        }

        this.x = new float[maxRows * dim];
        this.xb = new float[maxRows * dim];
        this.qkv = new float[maxRows * (shard.queryWidth() + 2 * shard.kvWidth())];
        this.attention = new float[maxRows * shard.queryWidth()];
        this.projected = new float[maxRows * dim];
        this.gateUp = new float[maxRows * 2 * shard.hidden()];
        this.hidden = new float[maxRows * shard.hidden()];
        // rounded up to whole key blocks: scoreBlocks writes every lane of the last block
        this.scores = new float[backend.parallelism()][(positions + KvCacheShard.KEY_BLOCK - 1)
                / KvCacheShard.KEY_BLOCK * KvCacheShard.KEY_BLOCK];
        // a single rank writes its logits straight into the caller's array (see forward)
        boolean gathers = shard.size() > 1;
        this.logitSlice = new float[gathers ? maxRows * shard.vocab() : 0];
        this.gathered = new float[gathers ? maxRows * config.vocabularySize() : 0];
    }

    public ModelConfig config() {
        return config;
    }

    public ShardSpec shard() {
        return shard;
    }

    public KvCacheShard kvCache() {
        return kvCache;
    }

    @Override
    public long kvCacheBytes() {
        return kvCache.bytes();
    }

    public int maxRows() {
        return maxRows;
    }

    /** Bytes of packed weights this rank holds (the replicated embedding is read in place). */
    @Override
    public long weightBytes() {
        long bytes = classifier.bytes() + 2L * finalNorm.length * Float.BYTES;
        for (Layer layer : layers) {
            bytes += layer.qkv.bytes() + layer.wo.bytes() + layer.gateUp.bytes() + layer.w2.bytes();
        }
        return bytes;
    }

    @Override
    public void forward(StepBatch batch, float[] logits) {
        int rows = batch.rows();
        if (rows > maxRows) {
            throw new IllegalArgumentException("step of " + rows + " rows exceeds the budget of " + maxRows);
        }
        int dim = config.dim();
        for (int r = 0; r < rows; r++) {
            int token = batch.tokens()[r];
            if (token < 0 || token >= config.vocabularySize()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary");
            }
            tokenEmbedding.get(token * dim, x, r * dim, dim);
        }
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            // attention rmsnorm
            for (int r = 0; r < rows; r++) {
                rmsNorm(xb, r * dim, x, r * dim, layer.attentionNorm, dim, config.rmsNormEps());
            }
            // q, k, v for this rank's heads
            layer.qkv.forward(xb, rows, qkv);
            int qkvWidth = shard.queryWidth() + 2 * shard.kvWidth();
            for (int r = 0; r < rows; r++) {
                int pos = batch.positions()[r];
                rotate(qkv, r * qkvWidth, shard.queryWidth(), pos);
                rotate(qkv, r * qkvWidth + shard.queryWidth(), shard.kvWidth(), pos);
                int kOffset = r * qkvWidth + shard.queryWidth();
                kvCache.write(l, batch.slots()[r], pos, qkv, kOffset, kOffset + shard.kvWidth());
            }
            // causal attention over the cache, once every row of the step has written its K/V; rows are
            // independent, so the backend's threads share them
            int layerIndex = l;
            backend.parallel((part, parts) -> {
                for (int r = rows * part / parts; r < rows * (part + 1) / parts; r++) {
                    attend(layerIndex, batch.slots()[r], batch.positions()[r], qkv, r * qkvWidth, attention,
                            r * shard.queryWidth(), scores[part]);
                }
            });
            // output projection, summed over ranks; residual
            layer.wo.forward(attention, rows, projected);
            addInPlace(x, projected, rows * dim);
            // ffn rmsnorm, SwiGLU, down projection summed over ranks; residual
            for (int r = 0; r < rows; r++) {
                rmsNorm(xb, r * dim, x, r * dim, layer.ffnNorm, dim, config.rmsNormEps());
            }
            layer.gateUp.forward(xb, rows, gateUp);
            backend.parallel((part, parts) -> swiGlu(gateUp, hidden, rows * part / parts, rows * (part + 1) / parts,
                    shard.hidden()));
            layer.w2.forward(hidden, rows, projected);
            addInPlace(x, projected, rows * dim);
        }
        // final norm of the rows that want logits, packed to the front
        int logitRows = 0;
        for (int r = 0; r < rows; r++) {
            if (batch.wantLogits()[r]) {
                rmsNorm(xb, logitRows * dim, x, r * dim, finalNorm, dim, config.rmsNormEps());
                logitRows++;
            }
        }
        if (logitRows == 0) {
            return;
        }
        if (shard.size() == 1) {
            // one rank's slice is the whole vocabulary: write it straight into the caller's rows
            if (logits != null) {
                classifier.forward(xb, logitRows, logits);
            }
            return;
        }
        classifier.forward(xb, logitRows, logitSlice);
        int vocabShard = shard.vocab();
        int vocab = config.vocabularySize();
        // One gather per row puts every rank's slice straight where the (row, vocab) layout wants it: one
        // collective for all rows would leave (rank, row, slice) to reorder, an extra pass over 8 MB on the
        // driver at batch 64 with a 32k vocabulary. Ranks that do not sample gather into scratch.
        float[] target = logits != null ? logits : gathered;
        for (int r = 0; r < logitRows; r++) {
            communicator.allGather(logitSlice, r * vocabShard, vocabShard, target, r * vocab);
        }
    }

    /** Rotary embedding of {@code width} features (whole heads) at {@code offset}, for position {@code pos}. */
    private void rotate(float[] v, int offset, int width, int pos) {
        int headSize = config.headDim();
        int half = headSize / 2;
        int table = pos * half;
        for (int head = 0; head < width; head += headSize) {
            int base = offset + head;
            for (int i = 0; i < half; i++) {
                float cos = ropeCos[table + i];
                float sin = ropeSin[table + i];
                int a;
                int b;
                if (config.rope().layout() == io.streaminfer.model.RopeConfig.Layout.ADJACENT_PAIRS) {
                    a = base + 2 * i;
                    b = a + 1;
                } else {
                    a = base + i;
                    b = a + half;
                }
                float v0 = v[a];
                float v1 = v[b];
                v[a] = v0 * cos - v1 * sin;
                v[b] = v0 * sin + v1 * cos;
            }
        }
    }

    /**
     * Attention of one row over positions [0, pos] of its slot, for each of this rank's query heads. Scores
     * come 8 positions at a time from the transposed key blocks (the last block's lanes past pos are
     * computed and ignored); softmax runs in position order; the weighted value sum keeps its accumulators
     * in registers across positions. Every float's order is fixed by (pos, head), never by the batch.
     */
    private void attend(int layer, int slot, int pos, float[] qkvRow, int qOffset, float[] out, int outOffset,
                        float[] scores) {
        int headSize = config.headDim();
        int groupSize = config.numberOfHeads() / config.numberOfKeyValueHeads();
        float sqrtHeadSize = (float) Math.sqrt(headSize);
        float[] keys = kvCache.keys(layer);
        float[] values = kvCache.values(layer);
        int n = pos + 1;
        int blocks = (n + KvCacheShard.KEY_BLOCK - 1) / KvCacheShard.KEY_BLOCK;
        for (int h = 0; h < shard.heads(); h++) {
            int q = qOffset + h * headSize;
            int kvHead = (shard.headStart() + h) / groupSize - shard.kvHeadStart();
            VectorOps.scoreBlocks(qkvRow, q, keys, kvCache.keyBlockOffset(slot, kvHead, 0), headSize, blocks,
                    scores, 0);
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < n; t++) {
                float s = scores[t] / sqrtHeadSize;
                scores[t] = s;
                if (s > max) {
                    max = s;
                }
            }
            VectorOps.expShifted(scores, 0, n, max);
            float sum = 0f;
            for (int t = 0; t < n; t++) {
                sum += scores[t];
            }
            for (int t = 0; t < n; t++) {
                scores[t] /= sum;
            }
            VectorOps.weightedSum(scores, n, values, kvCache.valueOffset(slot, 0) + kvHead * headSize,
                    kvCache.width(), out, outOffset + h * headSize, headSize);
        }
    }

    private static void rmsNorm(float[] out, int outOffset, float[] in, int inOffset, float[] weight, int n, float eps) {
        float ss = VectorOps.sumOfSquares(in, inOffset, n);
        float scale = 1.0f / (float) Math.sqrt(ss / n + eps);
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = weight[i] * (scale * in[inOffset + i]);
        }
    }

    /** hidden = silu(gate) * up for rows [from, to); gateUp rows hold (gate | up). */
    private static void swiGlu(float[] gateUp, float[] hidden, int from, int to, int width) {
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

    private static void addInPlace(float[] target, float[] addend, int n) {
        for (int i = 0; i < n; i++) {
            target[i] += addend[i];
        }
    }

    private static float[] copy(FloatBuffer buffer, int n) {
        float[] out = new float[n];
        buffer.duplicate().get(out, 0, n);
        return out;
    }

    @Override
    public void close() {
        backend.close();
    }
}
