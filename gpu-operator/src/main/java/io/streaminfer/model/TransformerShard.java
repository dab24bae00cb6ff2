package io.streaminfer.model;

import io.streaminfer.comm.Communicator;
import io.streaminfer.comm.StageLink;
import io.streaminfer.compute.ActivationBuffer;
import io.streaminfer.compute.AttentionShape;
import io.streaminfer.compute.ComputeBackend;
import io.streaminfer.compute.EmbeddingTable;
import io.streaminfer.compute.KvCache;
import io.streaminfer.compute.KvGeometry;
import io.streaminfer.compute.RotaryTable;
import io.streaminfer.compute.StepBatch;
import io.streaminfer.compute.WeightSlice;
import io.streaminfer.compute.WeightTensor;
import io.streaminfer.compute.WeightVector;

/**
 * One rank's share of a Llama-family transformer, written once against the {@link ComputeBackend}'s
 * operations, whatever the device and the weights' storage kind. State by lifetime: the weights (this
 * rank's shard of every layer, cut from the checkpoint at load), the KV cache, and one step's scratch.
 * Used by one rank thread; the ranks of a group call {@link #forward} with the same {@link StepBatch} and
 * meet in the collectives.
 *
 * <p>A pipeline stage ({@link StageSpec}) holds a contiguous range of layers: the first stage embeds the
 * tokens, the others receive the residual stream of the step's rows from the previous stage; the last
 * stage computes the logits, the others send the residual stream on. It is the same forward pass over
 * fewer layers, and the rows cross stages bitwise, so the PP degree changes no bit either.
 *
 * <p>Every row is computed on its own, in a fixed order: batching and TP degree change no bit (on a
 * batch-invariant backend).
 */
public final class TransformerShard implements ModelShard {

    private final ModelConfig config;
    private final ShardSpec shard;
    private final Communicator communicator;
    private final ComputeBackend backend;
    private final AttentionShape heads;
    private final int maxRows;
    private final StageSpec stage;
    private final StageLink inbound;   // from the previous stage; null on the first
    private final StageLink outbound;  // to the next stage; null on the last

    // Weights.
    private final EmbeddingTable embedding;          // (vocab, dim), replicated; first stage only
    private final Layer[] layers;                    // (stage layers) layer firstLayer + i at i
    private final WeightVector finalNorm;            // (dim); last stage only
    private final ColumnParallelLinear classifier;   // rows [vocabStart, vocabStart + vocab_shard); last stage only
    private final RotaryTable rope;                  // (position, head_dim / 2)
    // KV cache: (stage layer, block, position in block, kv_heads_shard, head_dim), laid out by the backend.
    private final KvCache kvCache;
    // One step's scratch, maxRows rows each.
    private final ActivationBuffer x;          // (rows, dim) residual stream
    private final ActivationBuffer xb;         // (rows, dim) normed input
    private final ActivationBuffer qkv;        // (rows, query_shard + 2 * kv_shard)
    private final ActivationBuffer attention;  // (rows, query_shard)
    private final ActivationBuffer projected;  // (rows, dim) output of a row-parallel layer
    private final ActivationBuffer gateUp;     // (rows, 2 * hidden_shard)
    private final ActivationBuffer hidden;     // (rows, hidden_shard)

    /** One layer's shard; the bias and q/k norms are null when the architecture has none. */
    private record Layer(WeightVector attentionNorm, ColumnParallelLinear qkv, WeightVector qkvBias,
                         WeightVector queryNorm, WeightVector keyNorm, RowParallelLinear wo,
                         WeightVector ffnNorm, ColumnParallelLinear gateUp, RowParallelLinear w2) {}

    /**
     * Cuts this rank's shard out of the checkpoint and hands it to the backend.
     *
     * @param slots sequence slots of the KV cache
     * @param positions positions per slot (at most the model's context length)
     * @param maxRows most rows one step may carry
     */
    public TransformerShard(Checkpoint checkpoint, ShardSpec shard, Communicator communicator,
                            ComputeBackend backend, int slots, int positions, int maxRows) {
        this(checkpoint, shard, communicator, backend, KvGeometry.slots(requirePositive(slots), positions), maxRows);
    }

    private static int requirePositive(int slots) {
        if (slots < 1) {
            throw new IllegalArgumentException("slots must be >= 1, got " + slots);
        }
        return slots;
    }

    /**
     * Cuts this rank's shard out of the checkpoint and hands it to the backend, with a paged KV cache.
     *
     * @param kv the KV pool: blocks, block size, and positions per sequence (at most the model's context)
     * @param maxRows most rows one step may carry
     */
    public TransformerShard(Checkpoint checkpoint, ShardSpec shard, Communicator communicator,
                            ComputeBackend backend, KvGeometry kv, int maxRows) {
        this(checkpoint, shard, communicator, backend, kv, maxRows, StageSpec.whole(checkpoint.config()), null, null);
    }

    /** A pipeline stage's shard with a KV cache of fixed slots (see {@link KvGeometry#slots}). */
    public TransformerShard(Checkpoint checkpoint, ShardSpec shard, Communicator communicator,
                            ComputeBackend backend, int slots, int positions, int maxRows, StageSpec stage,
                            StageLink inbound, StageLink outbound) {
        this(checkpoint, shard, communicator, backend, KvGeometry.slots(requirePositive(slots), positions), maxRows,
                stage, inbound, outbound);
    }

    /**
     * Cuts this rank's shard of pipeline stage {@code stage}'s layers out of the checkpoint, with a paged KV
     * cache for those layers.
     *
     * @param kv the KV pool: blocks, block size, and positions per sequence (at most the model's context)
     * @param inbound the link from the same rank of the previous stage (null on the first stage)
     * @param outbound the link to the same rank of the next stage (null on the last stage)
     */
    public TransformerShard(Checkpoint checkpoint, ShardSpec shard, Communicator communicator,
                            ComputeBackend backend, KvGeometry kv, int maxRows, StageSpec stage,
                            StageLink inbound, StageLink outbound) {
        int positions = kv.positions();
        if (stage.first() != (inbound == null) || stage.last() != (outbound == null)) {
            throw new IllegalArgumentException("stage " + stage.stage() + " of " + stage.stages()
                    + " needs a link from the previous stage unless it is the first, and to the next unless it is the last");
        }
        if (stage.endLayer() > checkpoint.config().numberOfLayers()) {
            throw new IllegalArgumentException("stage " + stage.stage() + " ends at layer " + stage.endLayer()
                    + " but the model has " + checkpoint.config().numberOfLayers());
        }
        if (communicator.size() != shard.size() || communicator.rank() != shard.rank()) {
            throw new IllegalArgumentException("communicator is rank " + communicator.rank() + " of "
                    + communicator.size() + " but the shard is rank " + shard.rank() + " of " + shard.size());
        }
        if (positions < 1 || positions > checkpoint.config().contextLength()) {
            throw new IllegalArgumentException("positions per slot must be within [1, "
                    + checkpoint.config().contextLength() + "], got " + positions);
        }
        if (maxRows < 1) {
            throw new IllegalArgumentException("maxRows must be >= 1, got " + maxRows);
        }
        this.config = checkpoint.config();
        this.shard = shard;
        this.communicator = communicator;
        this.backend = backend;
        this.maxRows = maxRows;
        this.stage = stage;
        this.inbound = inbound;
        this.outbound = outbound;
        int headDim = config.headDim();
        this.heads = new AttentionShape(shard.heads(), shard.headStart(), shard.kvHeads(), shard.kvHeadStart(),
                config.numberOfHeads() / config.numberOfKeyValueHeads(), headDim);
        int segments = shard.reductionSegments();

        this.embedding = stage.first() ? backend.embedding(checkpoint.tensor(TensorNames.TOKEN_EMBEDDING)) : null;
        this.layers = new Layer[stage.layers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = loadLayer(checkpoint, stage.firstLayer() + i, segments);
        }
        this.finalNorm = stage.last() ? vector(checkpoint, TensorNames.OUTPUT_NORM) : null;
        // The classifier is split by vocabulary rows. Each rank computes its logit slice and the group
        // all-gathers full rows: the sampler then sees the whole distribution (top-p, top-k, logprobs and
        // scoring need its normaliser), runs once on the driver exactly as at TP=1, and the gather costs
        // (rows x vocab) floats per step, small next to the classifier product itself.
        this.classifier = !stage.last() ? null : new ColumnParallelLinear("classifier", backend, segments,
                WeightSlice.rows(checkpoint.tensor(TensorNames.classifier(config)), shard.vocabStart(), shard.vocab()));
        RotaryAngles angles = RotaryAngles.of(config, positions);
        this.rope = backend.rotaryTable(angles.cos(), angles.sin(), positions, angles.pairs(),
                config.rope().layout() == RopeConfig.Layout.ADJACENT_PAIRS);
        // a stage of only the classifier keeps no KV
        this.kvCache = layers.length == 0 ? null : backend.kvCache(layers.length, kv, shard.kvHeads(), headDim);

        int dim = config.dim();
        this.x = backend.activations("residual", maxRows, dim);
        this.xb = backend.activations("normed", maxRows, dim);
        this.qkv = backend.activations("qkv", maxRows, heads.qkvWidth());
        this.attention = backend.activations("attention", maxRows, heads.queryWidth());
        this.projected = backend.activations("projected", maxRows, dim);
        this.gateUp = backend.activations("gate|up", maxRows, 2 * shard.hidden());
        this.hidden = backend.activations("hidden", maxRows, shard.hidden());
    }

    private Layer loadLayer(Checkpoint checkpoint, int l, int segments) {
        int headDim = config.headDim();
        int queryStart = shard.headStart() * headDim;
        int kvStart = shard.kvHeadStart() * headDim;
        ColumnParallelLinear qkvLinear = new ColumnParallelLinear("layer " + l + " q|k|v", backend, segments,
                WeightSlice.rows(checkpoint.tensor(TensorNames.query(l)), queryStart, shard.queryWidth()),
                WeightSlice.rows(checkpoint.tensor(TensorNames.key(l)), kvStart, shard.kvWidth()),
                WeightSlice.rows(checkpoint.tensor(TensorNames.value(l)), kvStart, shard.kvWidth()));
        WeightVector bias = null;
        if (config.attentionBias()) {
            float[] b = new float[heads.qkvWidth()];
            checkpoint.tensor(TensorNames.queryBias(l)).readRow(0, queryStart, shard.queryWidth(), b, 0);
            checkpoint.tensor(TensorNames.keyBias(l)).readRow(0, kvStart, shard.kvWidth(), b, shard.queryWidth());
            checkpoint.tensor(TensorNames.valueBias(l)).readRow(0, kvStart, shard.kvWidth(), b,
                    shard.queryWidth() + shard.kvWidth());
            bias = backend.vector("layer " + l + " q|k|v bias", b);
        }
        WeightVector queryNorm = config.queryKeyNorm() ? vector(checkpoint, TensorNames.queryNorm(l)) : null;
        WeightVector keyNorm = config.queryKeyNorm() ? vector(checkpoint, TensorNames.keyNorm(l)) : null;
        RowParallelLinear wo = new RowParallelLinear("layer " + l + " wo", backend, communicator,
                WeightSlice.columns(checkpoint.tensor(TensorNames.attentionOutput(l)), queryStart, shard.queryWidth()),
                shard.localReductionSegments());
        ColumnParallelLinear gateUpLinear = new ColumnParallelLinear("layer " + l + " w1|w3", backend, segments,
                WeightSlice.rows(checkpoint.tensor(TensorNames.ffnGate(l)), shard.hiddenStart(), shard.hidden()),
                WeightSlice.rows(checkpoint.tensor(TensorNames.ffnUp(l)), shard.hiddenStart(), shard.hidden()));
        RowParallelLinear w2 = new RowParallelLinear("layer " + l + " w2", backend, communicator,
                WeightSlice.columns(checkpoint.tensor(TensorNames.ffnDown(l)), shard.hiddenStart(), shard.hidden()),
                shard.localReductionSegments());
        return new Layer(vector(checkpoint, TensorNames.attentionNorm(l)), qkvLinear, bias, queryNorm, keyNorm, wo,
                vector(checkpoint, TensorNames.ffnNorm(l)), gateUpLinear, w2);
    }

    private WeightVector vector(Checkpoint checkpoint, String name) {
        WeightTensor tensor = checkpoint.tensor(name);
        return backend.vector(name, tensor.toFloats());
    }

    public ModelConfig config() {
        return config;
    }

    @Override
    public long kvCacheBytes() {
        return kvCache == null ? 0 : kvCache.bytes();
    }

    public int maxRows() {
        return maxRows;
    }

    public StageSpec stage() {
        return stage;
    }

    /** Bytes of weights this rank holds on its backend (an embedding read in place counts 0). */
    @Override
    public long weightBytes() {
        long bytes = (stage.last() ? classifier.bytes() : 0) + (stage.first() ? embedding.bytes() : 0)
                + 2L * config.dim() * Float.BYTES;
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
        if (rows == 0) {
            return;
        }
        float eps = config.rmsNormEps();
        backend.beginStep(batch);
        if (stage.first()) {
            // token embeddings
            backend.embed(x, embedding, batch);
        } else {
            // the residual stream of these rows, as the previous stage left it
            backend.receiveRows(x, rows, inbound);
        }
        for (int l = 0; l < layers.length; l++) {   // l: this stage's layer index (the KV cache's)
            Layer layer = layers[l];
            // attention rmsnorm
            backend.rmsNorm(xb, x, layer.attentionNorm, eps, rows);
            // q, k, v for this rank's heads (+ bias; per-head q/k norm)
            layer.qkv.forward(xb, rows, qkv);
            if (layer.qkvBias != null) {
                backend.addBias(qkv, rows, layer.qkvBias);
            }
            if (layer.queryNorm != null) {
                backend.headRmsNorm(qkv, rows, 0, heads.queryWidth(), heads.headDim(), layer.queryNorm, eps);
                backend.headRmsNorm(qkv, rows, heads.queryWidth(), heads.kvWidth(), heads.headDim(), layer.keyNorm,
                        eps);
            }
            // RoPE on q and k, k and v into the cache
            backend.ropeAndStore(qkv, batch, rope, kvCache, l, heads);
            // causal attention over the cache, once every row of the step has written its K/V
            backend.attention(attention, qkv, kvCache, l, batch, heads);
            // output projection, summed over ranks; residual
            layer.wo.forward(attention, rows, projected);
            backend.add(x, projected, rows);
            // ffn rmsnorm, SwiGLU, down projection summed over ranks; residual
            backend.rmsNorm(xb, x, layer.ffnNorm, eps, rows);
            layer.gateUp.forward(xb, rows, gateUp);
            backend.swiGlu(gateUp, hidden, rows, shard.hidden());
            layer.w2.forward(hidden, rows, projected);
            backend.add(x, projected, rows);
        }
        if (!stage.last()) {
            // on to the next stage, which goes on from this residual stream
            backend.sendRows(x, rows, outbound);
            backend.endStep(communicator);
            return;
        }
        int logitRows = batch.logitRows();
        if (logitRows > 0) {
            // final norm of the rows that want logits, packed to the front; vocabulary-split classifier
            backend.rmsNormLogitRows(xb, x, finalNorm, eps, batch);
            backend.logits(xb, logitRows, classifier.weight(), communicator, config.vocabularySize(), logits);
        }
        backend.endStep(communicator);
    }

    @Override
    public void close() {
        backend.close();
    }
}
