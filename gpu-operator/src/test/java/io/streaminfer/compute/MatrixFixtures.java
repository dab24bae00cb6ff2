package io.streaminfer.compute;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;

/** Random test data and a double-precision reference product. */
final class MatrixFixtures {
    private MatrixFixtures() {}

    static float[] random(Random random, int count) {
        float[] a = new float[count];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }

    static float[] product(MatmulKernel backend, float[] x, int m, float[] w, int n, int k, int segments) {
        PackedMatrix packed = backend.pack(FloatBuffer.wrap(w), n, k, k, segments);
        float[] out = new float[m * n];
        backend.matmul(x, m, packed, out);
        return out;
    }

    /** out = x·Wᵀ in double, for tolerance checks against an order-free reference. */
    static double[] reference(float[] x, int m, float[] w, int n, int k) {
        double[] out = new double[m * n];
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int c = 0; c < k; c++) {
                    sum += (double) x[r * k + c] * w[j * k + c];
                }
                out[r * n + j] = sum;
            }
        }
        return out;
    }

    /** Sum of |x[r][c] * W[j][c]|, the scale that float rounding errors grow with. */
    static double magnitude(float[] x, int r, float[] w, int j, int k) {
        double sum = 0;
        for (int c = 0; c < k; c++) {
            sum += Math.abs((double) x[r * k + c] * w[j * k + c]);
        }
        return sum;
    }

    /**
     * A tensor of random blocks of {@code kind}: gaussian bf16/f16 values, random quants, and small positive
     * f16 scales (6-bit sub-block scales and mins, and signed 8-bit Q6_K scales, random too).
     */
    static WeightTensor randomTensor(StorageKind kind, int rows, int cols, Random random) {
        ByteBuffer b = ByteBuffer.allocate((int) (rows * kind.rowBytes(cols))).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            for (int block = 0; block < cols / kind.blockSize(); block++) {
                switch (kind) {
                    case BF16 -> b.putShort(Quantize.bf16((float) random.nextGaussian()));
                    case F16 -> b.putShort(Quantize.f16((float) random.nextGaussian()));
                    case Q8_0 -> {
                        b.putShort(Quantize.f16(0.01f + random.nextFloat() / 50));
                        randomBytes(b, 32, random);
                    }
                    case Q4_0 -> {
                        b.putShort(Quantize.f16(0.01f + random.nextFloat() / 10));
                        randomBytes(b, 16, random);
                    }
                    case Q4_K -> {
                        b.putShort(Quantize.f16(0.001f + random.nextFloat() / 500));
                        b.putShort(Quantize.f16(0.001f + random.nextFloat() / 500));
                        randomBytes(b, 12 + 128, random);
                    }
                    case Q6_K -> {
                        randomBytes(b, 128 + 64 + 16, random);
                        b.putShort(Quantize.f16(0.0005f + random.nextFloat() / 1000));
                    }
                    default -> throw new IllegalArgumentException(kind.toString());
                }
            }
        }
        return new WeightTensor("w." + kind, kind, rows, cols, b.flip());
    }

    private static void randomBytes(ByteBuffer b, int count, Random random) {
        for (int i = 0; i < count; i++) {
            b.put((byte) random.nextInt(256));
        }
    }
}
