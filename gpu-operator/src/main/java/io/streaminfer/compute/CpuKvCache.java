package io.streaminfer.compute;

/**
 * Keys and values of this rank's KV heads, for a fixed number of sequence slots. The budget is fixed at
 * construction, so memory never grows with the input.
 *
 * <p>Keys are stored transposed in blocks of {@link #KEY_BLOCK} positions, (slot, kv head, block, feature,
 * position in block), so one 8-lane load holds one feature of 8 positions and attention scores 8 positions
 * per fma without a horizontal sum. Values stay (slot, position, kv width): attention reads a whole row of
 * them per position.
 */
public final class CpuKvCache implements KvCache {
    /** Positions per key block: one 256-bit vector of floats. */
    public static final int KEY_BLOCK = 8;

    private final int slots;
    private final int positions;
    private final int blocks;
    private final int width;
    private final int headSize;
    private final int kvHeads;
    private final float[][] keys;   // (layer) -> (slot, kv head, block, head feature, KEY_BLOCK)
    private final float[][] values; // (layer) -> (slot, position, kv width)

    public CpuKvCache(int layers, int slots, int positions, int width, int headSize) {
        if (headSize < 1 || width % headSize != 0) {
            throw new IllegalArgumentException("kv width " + width + " is not a whole number of heads of " + headSize);
        }
        this.blocks = (positions + KEY_BLOCK - 1) / KEY_BLOCK;
        long perLayer = (long) slots * blocks * KEY_BLOCK * width;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + slots + " slots x " + positions + " positions x "
                    + width + " floats per layer exceeds one array; lower the batch or context budget");
        }
        this.slots = slots;
        this.positions = positions;
        this.width = width;
        this.headSize = headSize;
        this.kvHeads = width / headSize;
        this.keys = new float[layers][(int) perLayer];
        this.values = new float[layers][slots * positions * width];
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public int positions() {
        return positions;
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

    /** Offset in a layer's key array of the block holding positions [8 * block, 8 * block + 8) of a head. */
    public int keyBlockOffset(int slot, int kvHead, int block) {
        return ((slot * kvHeads + kvHead) * blocks + block) * headSize * KEY_BLOCK;
    }

    /** Offset of (slot, position) in a layer's value array. */
    public int valueOffset(int slot, int position) {
        return (slot * positions + position) * width;
    }

    /** Stores the keys and values of one position: {@code width} floats each, at kOffset and vOffset of src. */
    public void write(int layer, int slot, int position, float[] src, int kOffset, int vOffset) {
        float[] k = keys[layer];
        int lane = position % KEY_BLOCK;
        for (int head = 0; head < kvHeads; head++) {
            int base = keyBlockOffset(slot, head, position / KEY_BLOCK) + lane;
            int from = kOffset + head * headSize;
            for (int d = 0; d < headSize; d++) {
                k[base + d * KEY_BLOCK] = src[from + d];
            }
        }
        System.arraycopy(src, vOffset, values[layer], valueOffset(slot, position), width);
    }

    @Override
    public long bytes() {
        return (long) keys.length * ((long) keys[0].length + values[0].length) * Float.BYTES;
    }
}
