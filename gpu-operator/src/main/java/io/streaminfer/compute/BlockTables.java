package io.streaminfer.compute;

/**
 * Where the sequences of one step keep their KV: row s of {@code blocks} lists the pool blocks of the step's
 * sequence s in position order, so position p of it lies in block {@code blocks[s * width + p / blockSize]}
 * at offset {@code p % blockSize}. Entries past a sequence's last block are -1.
 *
 * @param width entries per sequence
 * @param blocks (sequences, width) block ids
 */
public record BlockTables(int width, int[] blocks) {
    public BlockTables {
        if (width < 1 || blocks.length % width != 0) {
            throw new IllegalArgumentException("block tables of width " + width + " cannot hold " + blocks.length
                    + " entries");
        }
    }

    /** Sequence s owns blocks [s * width, (s + 1) * width). */
    public static BlockTables contiguous(int sequences, int width) {
        int[] blocks = new int[Math.multiplyExact(sequences, width)];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = i;
        }
        return new BlockTables(width, blocks);
    }

    public int sequences() {
        return blocks.length / width;
    }

    /** The pool block of the {@code index}-th block of {@code sequence}. */
    public int block(int sequence, int index) {
        int b = blocks[sequence * width + index];
        if (b < 0) {
            throw new IllegalArgumentException("sequence " + sequence + " has no block " + index);
        }
        return b;
    }
}
