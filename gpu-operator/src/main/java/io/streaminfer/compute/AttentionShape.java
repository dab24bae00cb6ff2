package io.streaminfer.compute;

/**
 * Which heads a rank attends with and where they lie in its (rows, query | key | value) qkv buffer.
 *
 * @param heads query heads on this rank
 * @param headStart the model-wide index of its first query head
 * @param kvHeads key/value heads on this rank
 * @param kvHeadStart the model-wide index of its first key/value head
 * @param groupSize query heads per key/value head (grouped-query attention)
 * @param headDim features per head
 */
public record AttentionShape(int heads, int headStart, int kvHeads, int kvHeadStart, int groupSize, int headDim) {

    /** Width of the rank's queries: heads * headDim. */
    public int queryWidth() {
        return heads * headDim;
    }

    /** Width of the rank's keys (and values). */
    public int kvWidth() {
        return kvHeads * headDim;
    }

    /** Width of a qkv row: queries, then keys, then values. */
    public int qkvWidth() {
        return queryWidth() + 2 * kvWidth();
    }

    /** The rank-local key/value head that query head {@code h} (rank-local) reads. */
    public int kvHeadOf(int h) {
        return (headStart + h) / groupSize - kvHeadStart;
    }
}
