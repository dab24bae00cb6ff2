package io.streaminfer.compute;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * One named tensor of a checkpoint, read in place (usually from a memory map): a storage kind, a 2-D shape
 * (rows = output features, cols = input features, row-major; a vector is one row) and its little-endian
 * bytes. Immutable; every accessor hands out fresh views.
 */
public final class WeightTensor {
    private final String name;
    private final StorageKind kind;
    private final int rows;
    private final int cols;
    private final ByteBuffer data; // read-only, little-endian, exactly rows * rowBytes

    public WeightTensor(String name, StorageKind kind, int rows, int cols, ByteBuffer data) {
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException(name + ": shape (" + rows + ", " + cols + ") must be positive");
        }
        long expected = rows * kind.rowBytes(cols);
        if (data.remaining() != expected) {
            throw new IllegalArgumentException(name + ": a " + kind + " tensor of shape (" + rows + ", " + cols
                    + ") needs " + expected + " bytes, got " + data.remaining());
        }
        this.name = name;
        this.kind = kind;
        this.rows = rows;
        this.cols = cols;
        this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A fp32 tensor over a float buffer's remaining elements (tests and synthetic models). */
    public static WeightTensor ofFloats(String name, int rows, int cols, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return new WeightTensor(name, StorageKind.F32, rows, cols, bytes);
    }

    public String name() {
        return name;
    }

    public StorageKind kind() {
        return kind;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Bytes the tensor occupies where it lies. */
    public long bytes() {
        return data.capacity();
    }

    /** The raw little-endian bytes. */
    public ByteBuffer bytesView() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The elements as floats, in place; only for {@link StorageKind#F32}. */
    public FloatBuffer floats() {
        if (kind != StorageKind.F32) {
            throw new IllegalStateException(name + " is stored as " + kind + ", not F32");
        }
        return bytesView().asFloatBuffer();
    }

    /** The whole tensor (a vector, usually) as floats. */
    public float[] toFloats() {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            readRow(r, 0, cols, out, r * cols);
        }
        return out;
    }

    /**
     * Elements [colStart, colStart + count) of row {@code row}, as floats, into {@code dst[dstOff ..)}: the
     * scalar reference dequantization of every kind the engine reads. For block kinds colStart and count
     * must lie on block boundaries.
     */
    public void readRow(int row, int colStart, int count, float[] dst, int dstOff) {
        if (row < 0 || row >= rows || colStart < 0 || count < 0 || colStart + count > cols) {
            throw new IndexOutOfBoundsException(name + ": row " + row + ", columns [" + colStart + ", "
                    + (colStart + count) + ") outside (" + rows + ", " + cols + ")");
        }
        long rowBase = row * kind.rowBytes(cols);
        switch (kind) {
            case F32 -> {
                FloatBuffer f = data.duplicate().order(ByteOrder.LITTLE_ENDIAN).position((int) (rowBase + 4L * colStart))
                        .slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                f.get(dst, dstOff, count);
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = Half.toFloat(data.getShort((int) (rowBase + 2L * (colStart + i))));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    int bits = data.getShort((int) (rowBase + 2L * (colStart + i))) & 0xFFFF;
                    dst[dstOff + i] = Float.intBitsToFloat(bits << 16);
                }
            }
            case Q8_0, Q4_0, Q4_K, Q6_K -> {
                int block = kind.blockSize();
                if (colStart % block != 0 || count % block != 0) {
                    throw new IllegalArgumentException(name + ": columns [" + colStart + ", " + (colStart + count)
                            + ") do not lie on the " + block + "-element blocks of " + kind);
                }
                Dequantize.blocks(kind, data, (int) (rowBase + (long) colStart / block * kind.blockBytes()),
                        count / block, dst, dstOff);
            }
        }
    }

    @Override
    public String toString() {
        return name + "[" + kind + ", " + rows + "x" + cols + "]";
    }
}
