package io.streaminfer.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Weights kept in their storage kind inside the vector kernel give bitwise the fp32 kernel's product on
 * the dequantized weights, for every batch size, row position and column shard, and take their kind's
 * bytes, not fp32's.
 */
class CompressedPanelsTest {
    private static final int N = 76;   // 10 panels: 3 fused groups (the last one padded), edge panel blocks
    private static final int K = 512;  // 2 super-blocks of the K kinds, 16 blocks of 32
    private static final int MAX_M = FusedProduct.MAX_ROWS + 12; // both sides of the fused path's switch

    @ParameterizedTest
    @EnumSource(value = StorageKind.class, names = {"BF16", "F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void productsEqualTheFp32KernelOnTheDequantizedWeights(StorageKind kind) {
        Random random = new Random(kind.ordinal());
        WeightTensor packedKind = MatrixFixtures.randomTensor(kind, N, K, random);
        float[] reference = kind.blockSize() == 256 ? packedKind.toFloats() : dequantize(packedKind);
        WeightTensor dequantized = WeightTensor.ofFloats("deq", N, K, reference);
        float[] x = new float[MAX_M * K];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        // {first column, columns, segments}: whole rows, row-parallel shards, one segment, and segments that do
        // not lie on blocks (96 / 32 = 3 columns, 512 / 8 = 64 for the 256-blocks)
        int[][] shards = kind.blockSize() == 256 ? new int[][] {{0, K, 4}, {256, 256, 2}, {256, 256, 1}, {0, K, 8}}
                : new int[][] {{0, K, 4}, {32, 64, 2}, {96, 32, 1}, {64, 96, 32}, {0, 160, 5}};
        for (int threads : new int[] {1, 2}) {
            try (VectorMatmul vector = new VectorMatmul(threads, 0)) {
                for (int[] shard : shards) {
                    PackedMatrix compressed = vector.pack(shard[2], WeightSlice.columns(packedKind, shard[0], shard[1]),
                            new WeightSlice(packedKind, 3, 5, shard[0], shard[1]));
                    PackedMatrix fp32 = vector.pack(shard[2], WeightSlice.columns(dequantized, shard[0], shard[1]),
                            new WeightSlice(dequantized, 3, 5, shard[0], shard[1]));
                    assertTrue(compressed.bytes() < fp32.bytes(), kind + " stays compressed: " + compressed.bytes());
                    for (int m = 1; m <= MAX_M; m++) {
                        float[] xs = slice(x, m, K, shard[0], shard[1]);
                        float[] expected = new float[m * fp32.rows()];
                        float[] actual = new float[m * compressed.rows()];
                        vector.matmul(xs, m, fp32, expected);
                        vector.matmul(xs, m, compressed, actual);
                        assertArrayEquals(expected, actual, kind + " threads=" + threads + " m=" + m + " shard "
                                + shard[0] + "+" + shard[1] + "/" + shard[2]);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = StorageKind.class, names = {"BF16", "F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void expandedWeightsAreTheReferenceDequantization(StorageKind kind) {
        WeightTensor t = MatrixFixtures.randomTensor(kind, 16, 256, new Random(kind.ordinal() + 100));
        CompressedPanels panels = CompressedPanels.pack(kind, new WeightSlice[] {WeightSlice.of(t)}, 16, 256);
        float[] row = new float[256];
        int lanes = CompressedPanels.LANES; // 8, or 16 with 512-bit kernels
        float[] expanded = new float[16 * 256];
        panels.expand(0, 16 / lanes, expanded);
        for (int j = 0; j < 16; j++) {
            t.readRow(j, 0, 256, row, 0);
            for (int c = 0; c < 256; c++) {
                // == also equates a Q4_0 zero's -0 with the +0 the panels give (see NibblePanels)
                float got = expanded[((j / lanes) * 256 + c) * lanes + j % lanes];
                assertTrue(row[c] == got, kind + " row " + j + " column " + c + ": " + row[c] + " vs " + got);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void everyHalfAndBfloat16PatternExpandsToTheFloatItEncodes() {
        for (StorageKind kind : new StorageKind[] {StorageKind.F16, StorageKind.BF16}) {
            ByteBuffer all = ByteBuffer.allocate(2 * 65536).order(ByteOrder.LITTLE_ENDIAN);
            for (int h = 0; h < 65536; h++) {
                all.putShort((short) h); // zeros, subnormals, normals, infinities and NaNs of both signs
            }
            WeightTensor t = new WeightTensor("all", kind, 8, 8192, all.flip());
            CompressedPanels panels = CompressedPanels.pack(kind, new WeightSlice[] {WeightSlice.of(t)}, 8, 8192);
            int lanes = CompressedPanels.LANES;
            float[] expanded = new float[lanes * 8192];
            panels.expand(0, 1, expanded);
            for (int row = 0; row < 8; row++) {
                for (int c = 0; c < 8192; c++) {
                    short h = (short) (row * 8192 + c);
                    float expected = kind == StorageKind.F16 ? Half.toFloat(h)
                            : Float.intBitsToFloat((h & 0xFFFF) << 16);
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(expanded[c * lanes + row]),
                            kind + " pattern " + Integer.toHexString(h & 0xFFFF));
                }
            }
        }
    }

    /** Rows of x, columns [c0, c0 + cols), as a dense (m, cols) input. */
    private static float[] slice(float[] x, int m, int k, int c0, int cols) {
        float[] out = new float[m * cols];
        for (int r = 0; r < m; r++) {
            System.arraycopy(x, r * k + c0, out, r * cols, cols);
        }
        return out;
    }

    /** The storage kinds' definitions, written out here independently of the code under test. */
    private static float[] dequantize(WeightTensor t) {
        ByteBuffer b = t.bytesView();
        float[] out = new float[t.rows() * t.cols()];
        int at = 0;
        for (int i = 0; i < out.length; ) {
            switch (t.kind()) {
                case BF16 -> { out[i++] = Float.intBitsToFloat((b.getShort(at) & 0xFFFF) << 16); at += 2; }
                case F16 -> { out[i++] = Half.toFloat(b.getShort(at)); at += 2; }
                case Q8_0 -> {
                    float d = Half.toFloat(b.getShort(at));
                    for (int j = 0; j < 32; j++) {
                        out[i++] = b.get(at + 2 + j) * d;
                    }
                    at += 34;
                }
                case Q4_0 -> {
                    float d = Half.toFloat(b.getShort(at));
                    for (int j = 0; j < 16; j++) {
                        int q = b.get(at + 2 + j) & 0xFF;
                        out[i + j] = ((q & 15) - 8) * d;
                        out[i + j + 16] = ((q >>> 4) - 8) * d;
                    }
                    i += 32;
                    at += 18;
                }
                default -> throw new IllegalArgumentException(t.kind().toString());
            }
        }
        return out;
    }
}
