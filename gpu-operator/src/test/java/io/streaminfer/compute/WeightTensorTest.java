package io.streaminfer.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Named tensors of every storage kind read in place, and shards that respect their blocks. */
class WeightTensorTest {

    @Test
    void f16AndBf16RowsReadAsTheFloatsTheyEncode() {
        // 1.0, -2.5, 65504 (largest half), 2^-24 (smallest subnormal), -0.0, +inf
        short[] halves = {0x3C00, (short) 0xC100, 0x7BFF, 0x0001, (short) 0x8000, 0x7C00};
        float[] expected = {1f, -2.5f, 65504f, 0x1p-24f, -0f, Float.POSITIVE_INFINITY};
        WeightTensor f16 = new WeightTensor("h", StorageKind.F16, 2, 3, shorts(halves));
        float[] row = new float[3];
        f16.readRow(1, 0, 3, row, 0);
        assertArrayEquals(new float[] {expected[3], expected[4], expected[5]}, row);
        assertArrayEquals(expected, f16.toFloats());

        float[] values = {1.5f, -3.25f, 1e30f, -1e-30f};
        short[] bf16 = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bf16[i] = (short) (Float.floatToRawIntBits(values[i]) >>> 16); // exact: these have short mantissas
        }
        WeightTensor b = new WeightTensor("b", StorageKind.BF16, 1, 4, shorts(bf16));
        float[] read = new float[2];
        b.readRow(0, 2, 2, read, 0);
        assertEquals(Float.intBitsToFloat(Float.floatToRawIntBits(1e30f) & 0xFFFF0000), read[0]);
        assertEquals(Float.intBitsToFloat(Float.floatToRawIntBits(-1e-30f) & 0xFFFF0000), read[1]);
    }

    @Test
    void aTensorMustHoldExactlyItsBytesAndF32IsReadInPlace() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WeightTensor("w", StorageKind.F32, 2, 3, ByteBuffer.allocate(20)));
        assertTrue(e.getMessage().contains("w: a F32 tensor of shape (2, 3) needs 24 bytes, got 20"), e.getMessage());
        WeightTensor t = WeightTensor.ofFloats("w", 2, 2, new float[] {1, 2, 3, 4});
        assertEquals(4f, t.floats().get(3));
        assertTrue(t.floats().isReadOnly());
        assertThrows(IllegalStateException.class,
                () -> new WeightTensor("q", StorageKind.Q8_0, 1, 32, ByteBuffer.allocate(34)).floats());
    }

    @Test
    void aShardMayNotSplitAQuantizationBlock() {
        WeightTensor q = new WeightTensor("blk.0.attn_output", StorageKind.Q8_0, 4, 96, ByteBuffer.allocate(4 * 3 * 34));
        assertEquals(64, WeightSlice.columns(q, 32, 64).cols());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightSlice.columns(q, 48, 48));
        assertTrue(e.getMessage().contains("blk.0.attn_output is stored as Q8_0 in blocks of 32 columns"),
                e.getMessage());
        assertTrue(e.getMessage().contains("TP degree"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WeightSlice.rows(q, 3, 2));
        assertThrows(IllegalArgumentException.class, () -> q.readRow(0, 16, 32, new float[32], 0),
                "a quantized row is read from block boundaries");
    }

    @Test
    void theDefaultPackStacksBlocksOfAnyKindLikeOneDenseMatrix() {
        float[] a = {1, 2, 3, 4, 5, 6};       // (3, 2)
        float[] b = {7, 8, 9, 10};            // (2, 2)
        short[] bBits = new short[b.length];
        for (int i = 0; i < b.length; i++) {
            bBits[i] = (short) (Float.floatToRawIntBits(b[i]) >>> 16);
        }
        try (MatmulKernel kernel = new ScalarMatmul()) {
            PackedMatrix stacked = kernel.pack(1, WeightSlice.rows(WeightTensor.ofFloats("a", 3, 2, a), 1, 2),
                    WeightSlice.of(new WeightTensor("b", StorageKind.BF16, 2, 2, shorts(bBits))));
            float[] out = new float[4];
            kernel.matmul(new float[] {1, 10}, 1, stacked, out);
            assertArrayEquals(new float[] {3 + 40, 5 + 60, 7 + 80, 9 + 100}, out);
        }
    }

    private static ByteBuffer shorts(short[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : values) {
            bytes.putShort(v);
        }
        return bytes.flip();
    }
}
