package io.streaminfer.comm;

/**
 * Sums the ranks' operands element-wise in {@link FixedOrder} tree order, a block of elements at a
 * time so that the partial sums stay in L1. Each leaf is read straight from the rank's array; only
 * inner nodes of the tree go through scratch blocks. The root is written straight to the destination,
 * which may be one of the operands at the same position (read-then-write per element).
 *
 * <p>Float addition is commutative in IEEE 754, so {@code a + b} per node gives exactly the bits of
 * {@link FixedOrder#treeSum}. Not thread-safe: one per rank.
 */
final class TreeReducer {
    /** Elements per block: 4 KiB of floats per scratch level. */
    static final int BLOCK = 1024;

    private final int parts;
    private final int depth;
    private float[][] levels; // (depth, BLOCK) partial sums of inner tree nodes, by recursion depth

    TreeReducer(int parts) {
        this.parts = parts;
        // A right child sits two levels below its parent; the tree has ceil(log2(parts)) levels.
        int height = 32 - Integer.numberOfLeadingZeros(Math.max(1, parts - 1));
        this.depth = 2 * height + 2;
    }

    /**
     * {@code dst[dstOffset + k] = treeSum over r of src[r][offsets[r] + start + k]} for k in
     * {@code [0, count)}.
     */
    void sum(float[][] src, int[] offsets, int start, int count, float[] dst, int dstOffset) {
        if (parts == 1) {
            System.arraycopy(src[0], offsets[0] + start, dst, dstOffset, count);
            return;
        }
        float[][] lv = levels;
        if (lv == null) {
            lv = new float[depth][BLOCK];
            levels = lv;
        }
        for (int done = 0; done < count; done += BLOCK) {
            int n = Math.min(BLOCK, count - done);
            node(lv, src, offsets, 0, parts, start + done, n, dst, dstOffset + done, 1);
        }
    }

    /** Writes the sum of ranks [lo, hi) at element positions [pos, pos+n) to out[outOff..]. */
    private static void node(float[][] lv, float[][] src, int[] offsets, int lo, int hi, int pos, int n,
                             float[] out, int outOff, int next) {
        int mid = FixedOrder.split(lo, hi);
        float[] a = child(lv, src, offsets, lo, mid, pos, n, next);
        // Two levels down: level next holds the left result, deeper levels are free again.
        float[] b = child(lv, src, offsets, mid, hi, pos, n, next + 1);
        add(a, childOffset(offsets, lo, mid, pos), b, childOffset(offsets, mid, hi, pos), out, outOff, n);
    }

    /**
     * The operand array of child [lo, hi): a leaf is its rank's own array; an inner node is summed into
     * scratch level {@code level}, its own children using the levels below.
     */
    private static float[] child(float[][] lv, float[][] src, int[] offsets, int lo, int hi, int pos, int n,
                                 int level) {
        if (hi - lo == 1) {
            return src[lo];
        }
        node(lv, src, offsets, lo, hi, pos, n, lv[level], 0, level + 1);
        return lv[level];
    }

    /** Where child [lo, hi)'s operand starts in the array {@link #child} returns. */
    private static int childOffset(int[] offsets, int lo, int hi, int pos) {
        return hi - lo == 1 ? offsets[lo] + pos : 0;
    }

    private static void add(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        for (int k = 0; k < n; k++) {
            out[outOff + k] = a[aOff + k] + b[bOff + k];
        }
    }

    void release() {
        levels = null;
    }
}
