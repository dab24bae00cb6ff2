package io.streaminfer.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.IntBinaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Hand-built blocks of each quantized kind, packed here from the layouts' definitions (value of element e
 * of sub-block s), and read back through {@link WeightTensor#readRow}.
 */
class DequantizeTest {
    private static final short HALF_ONE = 0x3C00;     // 1.0
    private static final short HALF_HALF = 0x3800;    // 0.5
    private static final short HALF_TWO = 0x4000;     // 2.0
    private static final short HALF_QUARTER = 0x3400; // 0.25

    private static ByteBuffer buffer(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Blocks of an fp16 scale and {@code values} bytes each, byte i of block k being {@code value(k, i)}; flipped. */
    private static ByteBuffer scaledBlocks(short[] scales, int values, IntBinaryOperator value) {
        ByteBuffer b = buffer(scales.length * (2 + values));
        for (int block = 0; block < scales.length; block++) {
            b.putShort(scales[block]);
            for (int i = 0; i < values; i++) {
                b.put((byte) value.applyAsInt(block, i));
            }
        }
        return b.flip();
    }

    private static float[] row(WeightTensor t, int row) {
        float[] out = new float[t.cols()];
        t.readRow(row, 0, t.cols(), out, 0);
        return out;
    }

    @Test
    void q8_0IsTheSignedByteTimesTheScale() {
        ByteBuffer b = scaledBlocks(new short[] {HALF_HALF, HALF_TWO}, 32,
                (block, i) -> block == 0 ? i * 8 - 128 : 127 - i);
        WeightTensor t = new WeightTensor("q8", StorageKind.Q8_0, 1, 64, b);
        float[] y = row(t, 0);
        for (int i = 0; i < 32; i++) {
            assertEquals((i * 8 - 128) * 0.5f, y[i], "block 0 element " + i);
            assertEquals((127 - i) * 2f, y[32 + i], "block 1 element " + i);
        }
    }

    @Test
    void q4_0HoldsTheFirstHalfInLowNibblesAndTheSecondInHighNibbles() {
        ByteBuffer b = scaledBlocks(new short[] {HALF_TWO, HALF_QUARTER}, 16, (r, j) -> j | ((15 - j) << 4));
        WeightTensor t = new WeightTensor("q4", StorageKind.Q4_0, 2, 32, b);
        float[] y0 = row(t, 0);
        float[] y1 = row(t, 1);
        for (int j = 0; j < 16; j++) {
            assertEquals((j - 8) * 2f, y0[j]);
            assertEquals((7 - j) * 2f, y0[j + 16]);
            assertEquals((j - 8) * 0.25f, y1[j], "second row, its own scale");
        }
    }

    /** Q4_K's 6-bit scales and mins of sub-blocks 0..7, as ggml packs them into 12 bytes. */
    static byte[] packQ4KScales(int[] scale, int[] min) {
        byte[] p = new byte[12];
        for (int j = 0; j < 4; j++) {
            p[j] = (byte) ((scale[j] & 63) | ((scale[j + 4] >> 4) << 6));
            p[j + 4] = (byte) ((min[j] & 63) | ((min[j + 4] >> 4) << 6));
            p[j + 8] = (byte) ((scale[j + 4] & 15) | ((min[j + 4] & 15) << 4));
        }
        return p;
    }

    @Test
    void q4KUnpacksSixBitScalesAndMinsPerSubBlock() {
        int[] scale = {1, 2, 63, 17, 33, 48, 5, 62};  // sub-blocks 4..7 use the high bits of bytes 0..3
        int[] min = {0, 3, 40, 63, 16, 31, 47, 9};
        int[] q = new int[256];                       // q[e]: the 4-bit value of element e
        for (int e = 0; e < 256; e++) {
            q[e] = (e * 7 + e / 32) % 16;
        }
        ByteBuffer b = buffer(144);
        b.putShort(HALF_ONE).putShort(HALF_HALF).put(packQ4KScales(scale, min));
        for (int chunk = 0; chunk < 4; chunk++) {     // 32 bytes: sub-block 2c low nibbles, 2c+1 high nibbles
            for (int l = 0; l < 32; l++) {
                b.put((byte) (q[64 * chunk + l] | (q[64 * chunk + 32 + l] << 4)));
            }
        }
        WeightTensor t = new WeightTensor("q4k", StorageKind.Q4_K, 1, 256, b.flip());
        float[] y = row(t, 0);
        for (int e = 0; e < 256; e++) {
            int s = e / 32;
            float expected = 1f * scale[s] * q[e] - 0.5f * min[s];
            assertEquals(expected, y[e], "element " + e + " of sub-block " + s);
        }
    }

    @Test
    void q6KJoinsLowNibblesAndHighBitPairsWithSignedSubBlockScales() {
        int[] q = new int[256];                       // 6-bit values, y = d * scale * (q - 32)
        for (int e = 0; e < 256; e++) {
            q[e] = (e * 5 + 3) % 64;
        }
        byte[] scales = {1, -2, 3, -4, 5, -6, 7, -8, 127, -128, 11, -12, 13, -14, 15, 16};
        byte[] ql = new byte[128];
        byte[] qh = new byte[64];
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                int base = 128 * half;
                int q1 = q[base + l];
                int q2 = q[base + l + 32];
                int q3 = q[base + l + 64];
                int q4 = q[base + l + 96];
                ql[64 * half + l] = (byte) ((q1 & 15) | ((q3 & 15) << 4));
                ql[64 * half + l + 32] = (byte) ((q2 & 15) | ((q4 & 15) << 4));
                qh[32 * half + l] = (byte) ((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
        ByteBuffer b = buffer(210);
        b.put(ql).put(qh).put(scales).putShort(HALF_QUARTER);
        WeightTensor t = new WeightTensor("q6k", StorageKind.Q6_K, 1, 256, b.flip());
        float[] y = row(t, 0);
        for (int e = 0; e < 256; e++) {
            float expected = 0.25f * scales[e / 16] * (q[e] - 32);
            assertEquals(expected, y[e], "element " + e);
        }
    }

    @Test
    void aColumnRangeOfWholeBlocksReadsThoseBlocksOnly() {
        ByteBuffer b = scaledBlocks(new short[] {HALF_ONE, HALF_ONE, HALF_ONE}, 32, (block, i) -> block * 32 + i - 50);
        WeightTensor t = new WeightTensor("q8", StorageKind.Q8_0, 1, 96, b);
        float[] all = row(t, 0);
        float[] middle = new float[40];
        t.readRow(0, 32, 32, middle, 8);
        assertArrayEquals(Arrays.copyOfRange(all, 32, 64), Arrays.copyOfRange(middle, 8, 40));
        assertThrows(IllegalArgumentException.class, () -> t.readRow(0, 16, 32, new float[32], 0));
        assertThrows(UnsupportedOperationException.class,
                () -> Dequantize.blocks(StorageKind.F16, b, 0, 1, new float[1], 0));
    }
}
