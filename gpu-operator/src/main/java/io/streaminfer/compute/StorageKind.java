package io.streaminfer.compute;

/**
 * How a weight tensor's elements are stored: plain floats, or blocks of quantized values with their scales
 * (GGUF's block layouts). One table, as ggml's type traits: a new kind is a row here and a kernel in the
 * backends, never a new forward pass.
 *
 * @param blockSize elements per block (1 for plain floats)
 * @param blockBytes bytes of one block
 */
public enum StorageKind {
    F32(1, 4),
    F16(1, 2),
    BF16(1, 2),
    /** {f16 scale; i8 q[32]}: y = scale * q. */
    Q8_0(32, 34),
    /** {f16 scale; u8 q[16]}: y[j] = ((q[j] &amp; 15) - 8) * scale, y[j+16] = ((q[j] &gt;&gt; 4) - 8) * scale. */
    Q4_0(32, 18),
    /** 256-element super-blocks with 6-bit sub-block scales and mins. */
    Q4_K(256, 144),
    /** 256-element super-blocks, 6-bit values with 8-bit sub-block scales. */
    Q6_K(256, 210);

    private final int blockSize;
    private final int blockBytes;

    StorageKind(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public int blockSize() {
        return blockSize;
    }

    public int blockBytes() {
        return blockBytes;
    }

    /** Bytes of a row of {@code elements} (a whole number of blocks). */
    public long rowBytes(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(this + " rows must be a multiple of " + blockSize + " elements, got "
                    + elements);
        }
        return elements / blockSize * blockBytes;
    }
}
