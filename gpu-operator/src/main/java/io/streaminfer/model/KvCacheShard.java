package io.streaminfer.model;

/**
 * Keys and values of this rank's KV heads, for a fixed number of sequence slots. The budget is fixed at
 * construction, so memory never grows with the input.
 */
public final class KvCacheShard {
    private final int slots;
    private final int positions;
    private final int width;
    private final float[][] keys;   // (layer) -> (slot, position, kv_width)
    private final float[][] values; // (layer) -> (slot, position, kv_width)

    public KvCacheShard(int layers, int slots, int positions, int width) {
        long perLayer = (long) slots * positions * width;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + slots + " slots x " + positions + " positions x "
                    + width + " floats per layer exceeds one array; lower the batch or context budget");
        }
        this.slots = slots;
        this.positions = positions;
        this.width = width;
        this.keys = new float[layers][(int) perLayer];
        this.values = new float[layers][(int) perLayer];
    }

    public int slots() {
        return slots;
    }

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

    /** Offset of (slot, position) in a layer's array. */
    public int offset(int slot, int position) {
        return (slot * positions + position) * width;
    }

    public long bytes() {
        return 2L * keys.length * slots * positions * width * Float.BYTES;
    }

    /** Bytes one slot would take, for sizing a budget before allocating. */
    public static long bytesPerSlot(int layers, int positions, int width) {
        return 2L * layers * positions * width * Float.BYTES;
    }
}
