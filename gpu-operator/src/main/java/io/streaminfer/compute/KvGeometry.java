package io.streaminfer.compute;

/**
 * The shape of a rank's paged KV cache: a pool of {@code blocks} blocks of {@code blockSize} positions each,
 * and the most positions one sequence may use. Every rank of a replica has the same geometry (each holds
 * its own KV heads), so one block table addresses a sequence on all of them.
 *
 * @param blocks blocks in the pool
 * @param blockSize positions per block, a multiple of {@link #KEY_LANES}
 * @param positions most positions one sequence uses (its context): sizes the rotary table and the scores
 */
public record KvGeometry(int blocks, int blockSize, int positions) {
    /** Positions per block unless configured: see the README (measured: decode speed against waste). */
    public static final int DEFAULT_BLOCK_SIZE = 16;
    /** The CPU cache transposes keys in runs of 8 positions (one 256-bit vector); blocks hold whole runs. */
    public static final int KEY_LANES = 8;

    public KvGeometry {
        if (blockSize < KEY_LANES || blockSize % KEY_LANES != 0) {
            throw new IllegalArgumentException("the KV block size must be a positive multiple of " + KEY_LANES
                    + ", got " + blockSize);
        }
        if (blocks < 1 || positions < 1) {
            throw new IllegalArgumentException("a KV cache needs at least one block and one position, got "
                    + blocks + " blocks and " + positions + " positions");
        }
    }

    /**
     * Fixed slots, as before paging: {@code slots} sequences of {@code positions} each, sequence s owning
     * blocks [s * blocksPerSequence, (s + 1) * blocksPerSequence) (a {@link StepBatch} without block
     * tables addresses them so).
     */
    public static KvGeometry slots(int slots, int positions) {
        int perSequence = blocksFor(positions, DEFAULT_BLOCK_SIZE);
        return new KvGeometry(Math.multiplyExact(slots, perSequence), DEFAULT_BLOCK_SIZE, positions);
    }

    /** Blocks that hold {@code positions} positions. */
    public static int blocksFor(int positions, int blockSize) {
        return (positions + blockSize - 1) / blockSize;
    }

    /** Blocks one sequence of the whole context needs: the width of a full block table. */
    public int blocksPerSequence() {
        return blocksFor(positions, blockSize);
    }

    /** The batch's block tables, or, for a batch of slots, the contiguous tables of {@link #slots}. */
    public BlockTables tablesOf(StepBatch batch) {
        if (batch.blockTables() != null) {
            return batch.blockTables();
        }
        int sequences = 0;
        for (int s : batch.sequences()) {
            sequences = Math.max(sequences, s + 1);
        }
        return BlockTables.contiguous(sequences, blocksPerSequence());
    }
}
