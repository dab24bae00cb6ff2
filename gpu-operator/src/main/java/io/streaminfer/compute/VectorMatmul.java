package io.streaminfer.compute;

import io.streaminfer.comm.FixedOrder;
import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The default CPU backend: a packed Vector-API kernel that follows {@link ScalarMatmul}'s order bitwise.
 *
 * <p>Layout: W is cut into panels of {@link #LANES} output columns (16 with {@link VectorShapes#WIDE_FLOATS}
 * at 512 bits, else 8); a panel stores, for each c, the weights of its columns at c next to each other, so one
 * load feeds a vector of outputs. The kernel broadcasts x[r][c]
 * and fmas it into one accumulator lane per output, so every output is a plain sequential fma chain over c
 * within a segment: no lane reduction, and an order that cannot depend on m, on the row's position, on the
 * block size or on the thread split. Segment partials are combined with {@link FixedOrder#treeSumColumns}.
 *
 * <p>Register blocking: 4 rows x 3 panels (12 accumulators) for the bulk, with 1-row and 1-panel kernels for
 * the edges. A lane is an output column whatever the width, so 256- and 512-bit machines give the same bits.
 *
 * <p>Work is split over output panels (or over rows when there are too few panels), never over k.
 */
public final class VectorMatmul extends ThreadedKernel {

    private static final VectorSpecies<Float> F = VectorShapes.WIDE_FLOATS;
    /** Output columns per panel; {@link CompressedPanels} uses the same, so its expanded tiles are these panels. */
    static final int LANES = VectorShapes.LANES;
    private static final int ROW_BLOCK = 4;
    private static final int PANEL_BLOCK = 3;
    /**
     * Below this many multiply-adds a product runs on the caller alone: handing a slice to a worker costs a
     * few microseconds even while it spins. At 2^16 every layer product of a stories15M-sized model splits at
     * batch 1 (the smallest, 288x288, has 83k): on the 2-core EPYC that took single-stream decode from 458
     * to 628 tok/s, where 2^20 had kept all but the classifier on one core.
     */
    static final long PARALLEL_MIN_FMAS = 1L << 16;
    /** Panel bytes walked per tile: half of a 1 MiB L2, leaving room for the activations. */
    private static final long L2_TILE_BYTES = 512 * 1024;

    private final long parallelMinFmas;
    private final float[][] scratch; // per part: (segments, ROW_BLOCK, PANEL_BLOCK * LANES) partials of one row block
    private final float[][] tiles;   // per part: one tile of compressed panels expanded to fp32
    private final float[][] pads;    // per part: (4, k) rows of x padded with zero rows, for the fused path

    /** W in panels of {@link #LANES} output columns: (panels, k, LANES), zero-padded past n. */
    static final class PanelMatrix extends KernelMatrix {
        private final int panels;
        private final float[] data;                 // (panels, k, LANES) fp32, or null when compressed
        private final CompressedPanels compressed;  // the same panels in their storage kind, or null

        PanelMatrix(int n, int k, int segments, int panels, float[] data, CompressedPanels compressed) {
            super(n, k, segments);
            this.panels = panels;
            this.data = data;
            this.compressed = compressed;
        }

        @Override public long bytes() { return compressed != null ? compressed.bytes() : 4L * data.length; }
    }

    public VectorMatmul() {
        this(1);
    }

    /** @param threads threads this backend owns (the caller counts as one). */
    public VectorMatmul(int threads) {
        this(threads, PARALLEL_MIN_FMAS);
    }

    /** @param parallelMinFmas products smaller than this run on the calling thread only (tests use 0). */
    VectorMatmul(int threads, long parallelMinFmas) {
        super("vector", true, checkedThreads(threads));
        this.parallelMinFmas = parallelMinFmas;
        this.scratch = new float[threads][0];
        this.tiles = new float[threads][0];
        this.pads = new float[threads][0];
    }

    @Override
    public PackedMatrix pack(FloatBuffer src, int n, int k, int rowStride, int segments) {
        MatmulChecks.checkPack(src, n, k, rowStride, segments);
        int panels = (n + LANES - 1) / LANES;
        float[] data = new float[Math.multiplyExact(Math.multiplyExact(panels, k), LANES)];
        float[] row = new float[k];
        FloatBuffer view = src.duplicate();
        int base = src.position();
        for (int j = 0; j < n; j++) {
            view.position(base + j * rowStride);
            view.get(row, 0, k);
            int p = j / LANES;
            int lane = j % LANES;
            int dst = p * k * LANES + lane;
            for (int c = 0; c < k; c++) {
                data[dst + c * LANES] = row[c];
            }
        }
        return new PanelMatrix(n, k, segments, panels, data, null);
    }

    /**
     * Weights of every kind but F32 stay in their kind (see {@link CompressedPanels}); fp32 ones, and blocks
     * of mixed kinds, become fp32 panels.
     */
    @Override
    public PackedMatrix pack(int segments, WeightSlice... blocks) {
        StorageKind kind = blocks[0].tensor().kind();
        int k = blocks[0].cols();
        int rows = 0;
        boolean sameKind = true;
        for (WeightSlice b : blocks) {
            sameKind &= b.tensor().kind() == kind && b.cols() == k;
            rows += b.rows();
        }
        if (!sameKind || !CompressedPanels.supports(kind)) {
            return super.pack(segments, blocks);
        }
        if (segments < 1 || k % segments != 0) {
            throw new IllegalArgumentException("pack: segments (" + segments + ") must be >= 1 and divide k (" + k + ")");
        }
        CompressedPanels panels = CompressedPanels.pack(kind, blocks, rows, k);
        return new PanelMatrix(rows, k, segments, panels.panels, null, panels);
    }

    @Override
    public void matmul(float[] x, int m, PackedMatrix packed, float[] out) {
        MatmulChecks.checkMatmul(name(), x, m, packed, out);
        PanelMatrix w = MatmulChecks.own(name(), PanelMatrix.class, packed);
        workers.checkOpen();
        if (m == 0) {
            return;
        }
        long fmas = (long) m * w.n * w.k;
        int parts = workers.parts();
        if (w.compressed != null && FusedProduct.applies(m)) {
            fused(x, m, w, out, parts == 1 || fmas < parallelMinFmas);
            return;
        }
        int need = w.segments * ROW_BLOCK * PANEL_BLOCK * LANES;
        if (scratch[0].length < need) {
            for (int i = 0; i < scratch.length; i++) {
                scratch[i] = new float[need];
            }
        }
        int tileFloats = w.compressed == null ? 0 : tilePanelBlocks(w) * PANEL_BLOCK * w.k * LANES;
        if (tiles[0].length < tileFloats) {
            for (int i = 0; i < tiles.length; i++) {
                tiles[i] = new float[tileFloats];
            }
        }
        int blocks = (w.panels + PANEL_BLOCK - 1) / PANEL_BLOCK;
        if (parts == 1 || fmas < parallelMinFmas) {
            compute(x, w, out, 0, m, 0, blocks, scratch[0], tiles[0]);
        } else if (blocks >= parts || m < parts * ROW_BLOCK) {
            workers.run((part, count) -> {
                int lo = (int) ((long) blocks * part / count);
                int hi = (int) ((long) blocks * (part + 1) / count);
                compute(x, w, out, 0, m, lo, hi, scratch[part], tiles[part]);
            });
        } else {
            int rowBlocks = (m + ROW_BLOCK - 1) / ROW_BLOCK;
            workers.run((part, count) -> {
                int lo = Math.min(m, (int) ((long) rowBlocks * part / count) * ROW_BLOCK);
                int hi = Math.min(m, (int) ((long) rowBlocks * (part + 1) / count) * ROW_BLOCK);
                compute(x, w, out, lo, hi, 0, blocks, scratch[part], tiles[part]);
            });
        }
    }

    /** A small batch over compressed weights (see {@link FusedProduct}), split over panel groups. */
    private void fused(float[] x, int m, PanelMatrix w, float[] out, boolean alone) {
        int need = FusedProduct.scratchFloats(w.segments);
        int padNeed = FusedProduct.padFloats(w.k);
        for (int i = 0; i < scratch.length; i++) {
            if (scratch[i].length < need) {
                scratch[i] = new float[need];
            }
            if (tiles[i].length < CompressedPanels.TILE_FLOATS) {
                tiles[i] = new float[CompressedPanels.TILE_FLOATS];
            }
            if (pads[i].length < padNeed) {
                pads[i] = new float[padNeed];
            }
        }
        int groups = FusedProduct.groups(w.compressed);
        if (alone) {
            FusedProduct.compute(x, m, w.compressed, w.n, w.segments, out, 0, groups, scratch[0], tiles[0], pads[0]);
            return;
        }
        workers.run((part, count) -> {
            int lo = (int) ((long) groups * part / count);
            int hi = (int) ((long) groups * (part + 1) / count);
            FusedProduct.compute(x, m, w.compressed, w.n, w.segments, out, lo, hi, scratch[part], tiles[part],
                    pads[part]);
        });
    }

    /**
     * Rows [rowLo, rowHi) x panel blocks [blockLo, blockHi), in tiles of panel blocks that fit in L2. Within a
     * tile row blocks go outermost: the first one streams the tile's panels from memory in one sequential run
     * (which the hardware prefetcher follows) and the others find them in L2. Large matrices (the classifier)
     * are still read from memory once, tile after tile. Compressed weights are expanded to fp32 one tile at
     * a time into {@code tile}. The tiling never changes an output's fma chain.
     */
    private static void compute(float[] x, PanelMatrix w, float[] out, int rowLo, int rowHi,
                                int blockLo, int blockHi, float[] part, float[] tile) {
        int step = tilePanelBlocks(w);
        for (int b = blockLo; b < blockHi; b += step) {
            int end = Math.min(blockHi, b + step);
            if (w.compressed == null) {
                computeRowsOuter(x, w, w.data, 0, out, rowLo, rowHi, b, end, part);
            } else {
                int p0 = b * PANEL_BLOCK;
                w.compressed.expand(p0, Math.min(w.panels, end * PANEL_BLOCK), tile);
                computeRowsOuter(x, w, tile, p0, out, rowLo, rowHi, b, end, part);
            }
        }
    }

    /** Panel blocks per tile: as many fp32 panels as fit half of L2. */
    private static int tilePanelBlocks(PanelMatrix w) {
        long blockBytes = (long) PANEL_BLOCK * w.k * LANES * Float.BYTES;
        return (int) Math.max(1, L2_TILE_BYTES / blockBytes);
    }

    /** As compute, for one tile whose panels start at panel {@code firstPanel} of {@code d}. */
    private static void computeRowsOuter(float[] x, PanelMatrix w, float[] d, int firstPanel, float[] out, int rowLo,
                                         int rowHi, int blockLo, int blockHi, float[] part) {
        int segments = w.segments;
        int len = w.k / segments;
        int width = PANEL_BLOCK * LANES;
        for (int r = rowLo; r < rowHi; ) {
            int rows = rowHi - r >= ROW_BLOCK ? ROW_BLOCK : 1;
            int segStride = rows * width; // part: (segments, rows, width) for these rows only
            for (int b = blockLo; b < blockHi; b++) {
                int p0 = b * PANEL_BLOCK;
                int panelsHere = Math.min(PANEL_BLOCK, w.panels - p0);
                for (int s = 0; s < segments; s++) {
                    int c0 = s * len;
                    int off = s * segStride;
                    int p = p0 - firstPanel; // index of the panel in d
                    if (rows == ROW_BLOCK && panelsHere == PANEL_BLOCK) {
                        kernel4x3(x, r, d, w.k, p, c0, len, part, off, width);
                    } else if (rows == ROW_BLOCK) {
                        for (int i = 0; i < panelsHere; i++) {
                            kernel4x1(x, r, d, w.k, p + i, c0, len, part, off + i * LANES, width);
                        }
                    } else if (panelsHere == PANEL_BLOCK) {
                        kernel1x3(x, r, d, w.k, p, c0, len, part, off);
                    } else {
                        for (int i = 0; i < panelsHere; i++) {
                            kernel1x1(x, r, d, w.k, p + i, c0, len, part, off + i * LANES);
                        }
                    }
                }
                combine(part, rows, segments, out, r, w, p0);
            }
            r += rows;
        }
    }

    /**
     * part holds (segments, rows, PANEL_BLOCK * LANES) partials of the panel block starting at p0 for rows from
     * r0; writes their tree sums to out, skipping the zero-padded columns past n.
     */
    private static void combine(float[] part, int rows, int segments, float[] out, int r0, PanelMatrix w, int p0) {
        int width = PANEL_BLOCK * LANES;
        int cols = Math.min(width, w.n - p0 * LANES);
        int segStride = rows * width;
        for (int i = 0; i < rows; i++) {
            int outBase = (r0 + i) * w.n + p0 * LANES;
            int partBase = i * width;
            if (cols == width && (segments == 1 || segments == 2 || segments == 4)) {
                // whole blocks, a vector of columns at a time; the same trees as FixedOrder.treeSumColumns
                for (int c = 0; c < width; c += LANES) {
                    int q = partBase + c;
                    FloatVector sum = FloatVector.fromArray(F, part, q);
                    if (segments == 2) {
                        sum = sum.add(FloatVector.fromArray(F, part, q + segStride));
                    } else if (segments == 4) {
                        sum = sum.add(FloatVector.fromArray(F, part, q + segStride)).add(
                                FloatVector.fromArray(F, part, q + 2 * segStride)
                                        .add(FloatVector.fromArray(F, part, q + 3 * segStride)));
                    }
                    sum.intoArray(out, outBase + c);
                }
            } else {
                FixedOrder.treeSumColumns(part, partBase, segStride, segments, out, outBase, cols);
            }
        }
    }

    // The kernels below each compute one segment [c0, c0+len) of a block. Every accumulator is one
    // sequential fma chain per output column, so they all give the same bits as ScalarMatmul.dot.

    private static void kernel4x3(float[] x, int r, float[] d, int k, int p, int c0, int len,
                                  float[] part, int off, int width) {
        int x0 = r * k + c0;
        int x1 = x0 + k;
        int x2 = x1 + k;
        int x3 = x2 + k;
        int w0 = (p * k + c0) * LANES;
        int w1 = w0 + k * LANES;
        int w2 = w1 + k * LANES;
        int o1 = off + width;
        int o2 = o1 + width;
        int o3 = o2 + width;
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F);
        for (int c = 0; c < len; c++) {
            int wo = c * LANES;
            FloatVector v0 = FloatVector.fromArray(F, d, w0 + wo);
            FloatVector v1 = FloatVector.fromArray(F, d, w1 + wo);
            FloatVector v2 = FloatVector.fromArray(F, d, w2 + wo);
            FloatVector b = FloatVector.broadcast(F, x[x0 + c]);
            a00 = v0.fma(b, a00);
            a01 = v1.fma(b, a01);
            a02 = v2.fma(b, a02);
            b = FloatVector.broadcast(F, x[x1 + c]);
            a10 = v0.fma(b, a10);
            a11 = v1.fma(b, a11);
            a12 = v2.fma(b, a12);
            b = FloatVector.broadcast(F, x[x2 + c]);
            a20 = v0.fma(b, a20);
            a21 = v1.fma(b, a21);
            a22 = v2.fma(b, a22);
            b = FloatVector.broadcast(F, x[x3 + c]);
            a30 = v0.fma(b, a30);
            a31 = v1.fma(b, a31);
            a32 = v2.fma(b, a32);
        }
        a00.intoArray(part, off);
        a01.intoArray(part, off + LANES);
        a02.intoArray(part, off + 2 * LANES);
        a10.intoArray(part, o1);
        a11.intoArray(part, o1 + LANES);
        a12.intoArray(part, o1 + 2 * LANES);
        a20.intoArray(part, o2);
        a21.intoArray(part, o2 + LANES);
        a22.intoArray(part, o2 + 2 * LANES);
        a30.intoArray(part, o3);
        a31.intoArray(part, o3 + LANES);
        a32.intoArray(part, o3 + 2 * LANES);
    }

    private static void kernel4x1(float[] x, int r, float[] d, int k, int p, int c0, int len,
                                  float[] part, int off, int width) {
        int x0 = r * k + c0;
        int x1 = x0 + k;
        int x2 = x1 + k;
        int x3 = x2 + k;
        int w0 = (p * k + c0) * LANES;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int c = 0; c < len; c++) {
            FloatVector v0 = FloatVector.fromArray(F, d, w0 + c * LANES);
            a0 = v0.fma(FloatVector.broadcast(F, x[x0 + c]), a0);
            a1 = v0.fma(FloatVector.broadcast(F, x[x1 + c]), a1);
            a2 = v0.fma(FloatVector.broadcast(F, x[x2 + c]), a2);
            a3 = v0.fma(FloatVector.broadcast(F, x[x3 + c]), a3);
        }
        a0.intoArray(part, off);
        a1.intoArray(part, off + width);
        a2.intoArray(part, off + 2 * width);
        a3.intoArray(part, off + 3 * width);
    }

    private static void kernel1x3(float[] x, int r, float[] d, int k, int p, int c0, int len,
                                  float[] part, int off) {
        int x0 = r * k + c0;
        int w0 = (p * k + c0) * LANES;
        int w1 = w0 + k * LANES;
        int w2 = w1 + k * LANES;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        for (int c = 0; c < len; c++) {
            int wo = c * LANES;
            FloatVector b = FloatVector.broadcast(F, x[x0 + c]);
            a0 = FloatVector.fromArray(F, d, w0 + wo).fma(b, a0);
            a1 = FloatVector.fromArray(F, d, w1 + wo).fma(b, a1);
            a2 = FloatVector.fromArray(F, d, w2 + wo).fma(b, a2);
        }
        a0.intoArray(part, off);
        a1.intoArray(part, off + LANES);
        a2.intoArray(part, off + 2 * LANES);
    }

    private static void kernel1x1(float[] x, int r, float[] d, int k, int p, int c0, int len,
                                  float[] part, int off) {
        int x0 = r * k + c0;
        int w0 = (p * k + c0) * LANES;
        FloatVector a0 = FloatVector.zero(F);
        for (int c = 0; c < len; c++) {
            a0 = FloatVector.fromArray(F, d, w0 + c * LANES).fma(FloatVector.broadcast(F, x[x0 + c]), a0);
        }
        a0.intoArray(part, off);
    }

    /** The Vector API module must be loaded before any worker thread starts. */
    private static int checkedThreads(int threads) {
        VectorSupport.require("VectorMatmul");
        return threads;
    }
}
