package io.streaminfer.comm;

/**
 * The one summation order of the project: a pairwise tree over parts {@code [lo, hi)}, split at
 * {@link #split(int, int)}. For 4 parts it is {@code (p0 + p1) + (p2 + p3)}.
 *
 * <p>Why it matters: a row-parallel layer at TP=t sums t rank partials. If each rank's kernel sums its
 * own K range as the same subtree that TP=1 uses for that range, and the group then combines the ranks
 * with this tree, every TP degree that divides the segment count gives bitwise the same result.
 */
public final class FixedOrder {
    private FixedOrder() {}

    /** The split point of {@code [lo, hi)}: the left half gets the larger part. */
    public static int split(int lo, int hi) {
        return lo + (hi - lo + 1) / 2;
    }

    /** Tree sum of {@code parts[offset + i * stride]} for i in {@code [lo, hi)}. */
    public static float treeSum(float[] parts, int offset, int stride, int lo, int hi) {
        if (hi - lo == 1) {
            return parts[offset + lo * stride];
        }
        int mid = split(lo, hi);
        return treeSum(parts, offset, stride, lo, mid) + treeSum(parts, offset, stride, mid, hi);
    }

    /**
     * {@code out[outOff + i] = treeSum(parts, offset + i, stride, 0, count)} for i in {@code [0, n)}: the tree
     * sums of n adjacent columns at once. For 2, 4 and 8 parts the tree is balanced and written out as plain
     * element-wise loops, which the JIT vectorises; other counts go through {@link #treeSum} per element.
     */
    public static void treeSumColumns(float[] parts, int offset, int stride, int count, float[] out, int outOff, int n) {
        switch (count) {
            case 1 -> System.arraycopy(parts, offset, out, outOff, n);
            case 2 -> {
                for (int i = 0; i < n; i++) {
                    int p = offset + i;
                    out[outOff + i] = parts[p] + parts[p + stride];
                }
            }
            case 4 -> {
                for (int i = 0; i < n; i++) {
                    int p = offset + i;
                    out[outOff + i] = (parts[p] + parts[p + stride]) + (parts[p + 2 * stride] + parts[p + 3 * stride]);
                }
            }
            case 8 -> {
                for (int i = 0; i < n; i++) {
                    int p = offset + i;
                    float left = (parts[p] + parts[p + stride]) + (parts[p + 2 * stride] + parts[p + 3 * stride]);
                    float right = (parts[p + 4 * stride] + parts[p + 5 * stride])
                            + (parts[p + 6 * stride] + parts[p + 7 * stride]);
                    out[outOff + i] = left + right;
                }
            }
            default -> {
                for (int i = 0; i < n; i++) {
                    out[outOff + i] = treeSum(parts, offset + i, stride, 0, count);
                }
            }
        }
    }
}
