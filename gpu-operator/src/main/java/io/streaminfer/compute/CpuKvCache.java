package io.streaminfer.compute;

/**
 * Keys and values of this rank's KV heads in a pool of fixed-size blocks ({@link KvGeometry}). The pool is
 * allocated whole at construction, so memory never grows with the input; which sequence a block belongs to
 * is the block tables' business (see {@link BlockTables}).
 *
 * <p>Keys are stored per head and transposed in runs of {@link KvGeometry#KEY_LANES} positions,
 * (kv head, block, run, feature, position in run), so one 8-lane load holds one feature of 8 positions and
 * attention scores 8 positions per fma without a horizontal sum. Values stay (block, position in block,
 * kv width): attention reads a whole row of them per position. Either way a sequence whose blocks are
 * consecutive lies exactly as it did in a slot of the whole context, and attention reads it so (see
 * {@link CpuAttention}).
 */
public final class CpuKvCache implements KvCache {
    private static final int LANES = KvGeometry.KEY_LANES;

    private final KvGeometry geometry;
    private final int blockSize;
    private final int width;
    private final int headSize;
    private final int kvHeads;
    private final float[][] keys;   // (layer) -> (kv head, block, run, head feature, LANES)
    private final float[][] values; // (layer) -> (block, position in block, kv width)

    public CpuKvCache(int layers, KvGeometry geometry, int width, int headSize) {
        if (headSize < 1 || width % headSize != 0) {
            throw new IllegalArgumentException("kv width " + width + " is not a whole number of heads of " + headSize);
        }
        long perLayer = (long) geometry.blocks() * geometry.blockSize() * width;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("a KV cache of " + geometry.blocks() + " blocks x "
                    + geometry.blockSize() + " positions x " + width + " floats per layer exceeds one array; "
                    + "lower --kv-cache-memory");
        }
        this.geometry = geometry;
        this.blockSize = geometry.blockSize();
        this.width = width;
        this.headSize = headSize;
        this.kvHeads = width / headSize;
        this.keys = new float[layers][(int) perLayer];
        this.values = new float[layers][(int) perLayer];
    }

    @Override
    public KvGeometry geometry() {
        return geometry;
    }

    public int width() {
        return width;
    }

    public float[] keys(int layer) {
        return keys[layer];
    }

    public float[] values(int layer) {
        return values[layer];
    }

    /**
     * Offset in a layer's key array of a head's keys in a block: blockSize / 8 runs of (feature, 8), which
     * the next block's continue.
     */
    public int keyOffset(int block, int kvHead) {
        return (kvHead * geometry.blocks() + block) * blockSize * headSize;
    }

    /** Offset of the value row at {@code offset} within {@code block}, in a layer's value array. */
    public int valueOffset(int block, int offset) {
        return (block * blockSize + offset) * width;
    }

    /**
     * Stores the keys and values of the position at {@code offset} of {@code block}: {@code width} floats
     * each, at kOffset and vOffset of src.
     */
    public void write(int layer, int block, int offset, float[] src, int kOffset, int vOffset) {
        if (block < 0 || block >= geometry.blocks()) {
            throw new IllegalArgumentException("KV block " + block + " is outside the pool of " + geometry.blocks());
        }
        float[] k = keys[layer];
        int run = offset / LANES;
        int lane = offset % LANES;
        for (int head = 0; head < kvHeads; head++) {
            int base = keyOffset(block, head) + run * headSize * LANES + lane;
            int from = kOffset + head * headSize;
            for (int d = 0; d < headSize; d++) {
                k[base + d * LANES] = src[from + d];
            }
        }
        System.arraycopy(src, vOffset, values[layer], valueOffset(block, offset), width);
    }

    @Override
    public long bytes() {
        return (long) keys.length * ((long) keys[0].length + values[0].length) * Float.BYTES;
    }
}
