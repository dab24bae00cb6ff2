package io.streaminfer.model;

/**
 * Which part of every layer rank {@code rank} of a tensor-parallel group of {@code size} ranks holds.
 * All shard arithmetic lives here.
 *
 * <ul>
 *   <li>Attention is split by heads: rank r holds query heads {@code [headStart, headStart + heads)} and
 *       the key/value heads they read, {@code [kvHeadStart, kvHeadStart + kvHeads)}.</li>
 *   <li>The feed-forward is split by hidden features {@code [hiddenStart, hiddenStart + hidden)}.</li>
 *   <li>The classifier is split by vocabulary rows {@code [vocabStart, vocabStart + vocab)}.</li>
 * </ul>
 *
 * <p>{@link #reductionSegments()} is the number of fixed k-segments every matrix product sums in (see
 * {@link io.streaminfer.comm.FixedOrder}); a row-parallel layer on this rank sums
 * {@link #localReductionSegments()} of them. When the TP degree divides the segment count, the result is
 * bitwise the same at every TP degree.
 */
public record ShardSpec(int rank, int size, ModelConfig config) {

    /** Largest segment count tried: TP degrees up to 8 stay bitwise identical. */
    private static final int MAX_SEGMENTS = 8;

    public ShardSpec {
        if (size < 1) {
            throw new IllegalArgumentException("tensor-parallel size must be >= 1, got " + size);
        }
        if (rank < 0 || rank >= size) {
            throw new IllegalArgumentException("rank " + rank + " is outside [0, " + size + ")");
        }
        check(config, size);
    }

    /**
     * Refuses a TP degree the model cannot be split by, naming the dimension. Cheap: the CLI calls it
     * before loading anything.
     */
    public static void check(ModelConfig config, int size) {
        if (size < 1) {
            throw new IllegalArgumentException("tensor-parallel size must be >= 1, got " + size);
        }
        divides(size, config.numberOfHeads(), "n_heads");
        divides(size, config.numberOfKeyValueHeads(), "n_kv_heads");
        divides(size, config.hiddenDim(), "hidden_dim");
        divides(size, config.vocabularySize(), "vocab_size");
    }

    /**
     * Also refuses a TP degree that would cut a quantized block of a row-parallel weight (the output
     * projection and the down projection are split along their input features), naming the tensor.
     */
    public static void check(Checkpoint checkpoint, int size) {
        ModelConfig config = checkpoint.config();
        check(config, size);
        int queryShard = config.queryDim() / size;
        int hiddenShard = config.hiddenDim() / size;
        for (int l = 0; l < config.numberOfLayers(); l++) {
            aligned(checkpoint.tensor(TensorNames.attentionOutput(l)), queryShard, size);
            aligned(checkpoint.tensor(TensorNames.ffnDown(l)), hiddenShard, size);
        }
    }

    private static void aligned(io.streaminfer.compute.WeightTensor tensor, int shardColumns, int size) {
        int block = tensor.kind().blockSize();
        if (shardColumns % block != 0) {
            throw new IllegalArgumentException("tensor-parallel size " + size + " would split the " + tensor.kind()
                    + " blocks of " + block + " columns of " + tensor.name() + " (each rank would hold " + shardColumns
                    + " of its " + tensor.cols() + " columns); choose a TP degree that keeps whole blocks");
        }
    }

    private static void divides(int size, int dimension, String name) {
        if (dimension % size != 0) {
            throw new IllegalArgumentException("tensor-parallel size " + size + " does not divide " + name + " ("
                    + dimension + "); choose a TP degree that divides " + name);
        }
    }

    public int heads() {
        return config.numberOfHeads() / size;
    }

    public int headStart() {
        return rank * heads();
    }

    public int kvHeads() {
        return config.numberOfKeyValueHeads() / size;
    }

    public int kvHeadStart() {
        return rank * kvHeads();
    }

    /** Width of this rank's slice of the query / attention output: heads * head_size. */
    public int queryWidth() {
        return heads() * config.headDim();
    }

    /** Width of this rank's slice of K and V. */
    public int kvWidth() {
        return kvHeads() * config.headDim();
    }

    public int hidden() {
        return config.hiddenDim() / size;
    }

    public int hiddenStart() {
        return rank * hidden();
    }

    public int vocab() {
        return config.vocabularySize() / size;
    }

    public int vocabStart() {
        return rank * vocab();
    }

    /**
     * Segments of every k-reduction: the largest power of two up to 8 that splits dim and hidden_dim
     * along head boundaries. Depends on the model only, never on the TP degree.
     */
    public int reductionSegments() {
        return reductionSegments(config);
    }

    public static int reductionSegments(ModelConfig config) {
        int s = MAX_SEGMENTS;
        while (s > 1 && (config.numberOfHeads() % s != 0 || config.hiddenDim() % s != 0)) {
            s /= 2;
        }
        return s;
    }

    /** Whether this TP degree reproduces TP=1 bitwise (it divides the segment count). */
    public boolean bitwiseIdenticalToSingleRank() {
        return reductionSegments() % size == 0;
    }

    /** Segments a row-parallel layer sums locally: its share of the global ones, or 1 if they don't split. */
    public int localReductionSegments() {
        return bitwiseIdenticalToSingleRank() ? reductionSegments() / size : 1;
    }
}
