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
    private static final int N = 44;   // not a multiple of 8 or 24: edge panels and blocks
    private static final int K = 128;  // 4 quantization blocks

    @ParameterizedTest
    @EnumSource(value = StorageKind.class, names = {"BF16", "F16", "Q8_0", "Q4_0"})
    void productsEqualTheFp32KernelOnTheDequantizedWeights(StorageKind kind) {
        Random random = new Random(kind.ordinal());
        WeightTensor packedKind = randomTensor(kind, N, K, random);
        WeightTensor dequantized = WeightTensor.ofFloats("deq", N, K, dequantize(packedKind));
        float[] x = new float[9 * K];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        try (VectorMatmul vector = new VectorMatmul(2, 0)) {
            for (int[] shard : new int[][] {{0, K, 4}, {32, 64, 2}, {96, 32, 1}}) {
                PackedMatrix compressed = vector.pack(shard[2], WeightSlice.columns(packedKind, shard[0], shard[1]),
                        new WeightSlice(packedKind, 3, 5, shard[0], shard[1]));
                PackedMatrix reference = vector.pack(shard[2], WeightSlice.columns(dequantized, shard[0], shard[1]),
                        new WeightSlice(dequantized, 3, 5, shard[0], shard[1]));
                assertTrue(compressed.bytes() < reference.bytes(), kind + " stays compressed: " + compressed.bytes());
                for (int m = 1; m <= 9; m++) {
                    float[] xs = slice(x, m, K, shard[0], shard[1]);
                    float[] expected = new float[m * reference.rows()];
                    float[] actual = new float[m * compressed.rows()];
                    vector.matmul(xs, m, reference, expected);
                    vector.matmul(xs, m, compressed, actual);
                    assertArrayEquals(expected, actual, kind + " m=" + m + " shard " + shard[0]);
                }
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
            float[] expanded = new float[8 * 8192];
            panels.expand(0, 1, expanded);
            for (int row = 0; row < 8; row++) {
                for (int c = 0; c < 8192; c++) {
                    short h = (short) (row * 8192 + c);
                    float expected = kind == StorageKind.F16 ? Half.toFloat(h)
                            : Float.intBitsToFloat((h & 0xFFFF) << 16);
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(expanded[c * 8 + row]),
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

    private static WeightTensor randomTensor(StorageKind kind, int rows, int cols, Random random) {
        ByteBuffer b = ByteBuffer.allocate((int) (rows * kind.rowBytes(cols))).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            for (int block = 0; block < cols / kind.blockSize(); block++) {
                switch (kind) {
                    case BF16 -> b.putShort((short) (Float.floatToRawIntBits((float) random.nextGaussian()) >>> 16));
                    case F16 -> b.putShort(half((float) random.nextGaussian()));
                    case Q8_0 -> {
                        b.putShort(half(0.01f + random.nextFloat() / 50));
                        for (int i = 0; i < 32; i++) {
                            b.put((byte) (random.nextInt(255) - 127));
                        }
                    }
                    case Q4_0 -> {
                        b.putShort(half(0.01f + random.nextFloat() / 10));
                        for (int i = 0; i < 16; i++) {
                            b.put((byte) random.nextInt(256));
                        }
                    }
                    default -> throw new IllegalArgumentException(kind.toString());
                }
            }
        }
        return new WeightTensor("w." + kind, kind, rows, cols, b.flip());
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

    /** Float to half, round to nearest even, for normal values in the half range. */
    private static short half(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = ((bits >>> 23) & 0xFF) - 127 + 15;
        int mantissa = bits & 0x7FFFFF;
        if (exponent <= 0) {
            return (short) sign; // tiny: flush (never drawn above)
        }
        int rounded = (mantissa + 0xFFF + ((mantissa >>> 13) & 1)) >>> 13;
        int value = (exponent << 10) + rounded; // a mantissa carry bumps the exponent, as it should
        assertEquals(0, value >>> 15, "out of the half range");
        return (short) (sign | value);
    }
}
