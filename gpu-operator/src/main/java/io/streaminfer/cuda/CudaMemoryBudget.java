package io.streaminfer.cuda;

import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;

/**
 * Device memory one rank's {@link CudaTransformerShard} allocates, computed from the shapes alone (pure
 * arithmetic, no CUDA), so that a model that does not fit is refused before a byte is copied.
 *
 * <p>What is counted, per rank:
 * <ul>
 *   <li>weights: the replicated fp32 embedding (vocab, dim); fp32 norms; this rank's QKV, WO, W1|W3, W2
 *       and classifier slices at the chosen precision (an fp32 shared classifier is read from the
 *       embedding, so it costs nothing extra);</li>
 *   <li>KV cache: (layer, slot, position, kv_width) fp32, for keys and values;</li>
 *   <li>scratch: the step's activations for maxRows rows, the bf16 copy of a GEMM input, the rope tables
 *       and the step's index arrays.</li>
 * </ul>
 * The safety margin covers what is not allocated by us: the CUDA context, cuBLAS workspaces, NCCL's
 * buffers and fragmentation: {@value #MARGIN_FIXED_MIB} MiB plus {@value #MARGIN_PERCENT}% of the device.
 *
 * @param weightBytes weights as above
 * @param kvCacheBytes keys and values of every layer
 * @param scratchBytes per-step buffers
 */
public record CudaMemoryBudget(long weightBytes, long kvCacheBytes, long scratchBytes) {
    static final long MARGIN_FIXED_MIB = 512;
    static final long MARGIN_PERCENT = 5;

    /** The budget of rank {@code spec.rank()} holding {@code slots × positions} cached positions. */
    public static CudaMemoryBudget of(ShardSpec spec, CudaPrecision precision, int slots, int positions, int maxRows) {
        ModelConfig c = spec.config();
        long e = precision.bytesPerWeight();
        long dim = c.dim();
        long embedding = (long) c.vocabularySize() * dim * Float.BYTES;
        long norms = (2L * c.numberOfLayers() + 1) * dim * Float.BYTES;
        long perLayer = (spec.queryWidth() + 2L * spec.kvWidth()) * dim   // QKV rows of this rank's heads
                + dim * spec.queryWidth()                                  // WO columns of those heads
                + 2L * spec.hidden() * dim                                 // W1 | W3 rows
                + dim * spec.hidden();                                     // W2 columns
        boolean classifierInEmbedding = c.tiedEmbeddings() && precision == CudaPrecision.FP32;
        long classifier = classifierInEmbedding ? 0 : (long) spec.vocab() * dim * e;
        long weights = embedding + norms + perLayer * c.numberOfLayers() * e + classifier;

        long kv = 2L * c.numberOfLayers() * slots * positions * spec.kvWidth() * Float.BYTES;

        long rows = maxRows;
        long activations = rows * (3 * dim                                  // x, xb, projected
                + spec.queryWidth() + 2L * spec.kvWidth()                  // qkv
                + spec.queryWidth()                                        // attention output
                + 3L * spec.hidden()                                       // gate | up, hidden
                + spec.vocab()                                             // logit slice
                + (spec.size() > 1 ? c.vocabularySize() : 0));             // gathered logits
        long widestInput = Math.max(Math.max(dim, spec.queryWidth()), spec.hidden());
        long bf16Input = precision == CudaPrecision.BF16 ? rows * widestInput * 2 : 0;
        long rope = 2L * positions * (c.headDim() / 2);
        long indices = 4L * rows;                                          // slots, positions, tokens, logit rows
        long scratch = activations * Float.BYTES + bf16Input + rope * Float.BYTES + indices * Integer.BYTES;
        return new CudaMemoryBudget(weights, kv, scratch);
    }

    public long totalBytes() {
        return weightBytes + kvCacheBytes + scratchBytes;
    }

    /** What is kept free on a device of {@code deviceTotalBytes}. */
    public static long marginBytes(long deviceTotalBytes) {
        return (MARGIN_FIXED_MIB << 20) + deviceTotalBytes * MARGIN_PERCENT / 100;
    }

    public boolean fits(long freeBytes, long deviceTotalBytes) {
        return totalBytes() + marginBytes(deviceTotalBytes) <= freeBytes;
    }

    /**
     * Throws, with every number, unless the shard fits the device's free memory with the margin.
     *
     * @param what which model, rank and device, for the message
     */
    public void requireFits(long freeBytes, long deviceTotalBytes, String what) {
        if (!fits(freeBytes, deviceTotalBytes)) {
            throw new IllegalStateException(what + " does not fit: it needs " + mib(totalBytes()) + " MiB (weights "
                    + mib(weightBytes) + " MiB + KV cache " + mib(kvCacheBytes) + " MiB + scratch " + mib(scratchBytes)
                    + " MiB) plus a safety margin of " + mib(marginBytes(deviceTotalBytes)) + " MiB, but only "
                    + mib(freeBytes) + " MiB of " + mib(deviceTotalBytes)
                    + " MiB are free; lower --max-batch or --max-context, use bf16 weights or a larger TP degree");
        }
    }

    static long mib(long bytes) {
        return bytes >> 20;
    }
}
