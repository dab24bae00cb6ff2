package io.streaminfer.compute;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Converts fp32 weights to another storage kind, so every kind can be measured on the same shape
 * ({@code bench --weights}). BF16 and F16 round to nearest even; Q8_0 and Q4_0 choose their block scales
 * as ggml's reference quantizers do (Q8_0: d = max|x| / 127, q = round(x / d); Q4_0: d = x_maxabs / -8,
 * q = min(15, trunc(x / d + 8.5))).
 */
public final class Quantize {
    private Quantize() {}

    public static WeightTensor to(StorageKind kind, WeightTensor source) {
        if (kind == StorageKind.F32 || source.kind() == kind) {
            return source;
        }
        int rows = source.rows();
        int cols = source.cols();
        ByteBuffer out = ByteBuffer.allocate((int) (rows * kind.rowBytes(cols))).order(ByteOrder.LITTLE_ENDIAN);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            source.readRow(r, 0, cols, row, 0);
            switch (kind) {
                case BF16 -> {
                    for (float v : row) {
                        out.putShort(bf16(v));
                    }
                }
                case F16 -> {
                    for (float v : row) {
                        out.putShort(f16(v));
                    }
                }
                case Q8_0 -> {
                    for (int b = 0; b < cols; b += 32) {
                        q8Block(row, b, out);
                    }
                }
                case Q4_0 -> {
                    for (int b = 0; b < cols; b += 32) {
                        q4Block(row, b, out);
                    }
                }
                default -> throw new IllegalArgumentException("cannot quantize to " + kind + " (f32, bf16, f16, "
                        + "q8_0 and q4_0 can be made)");
            }
        }
        return new WeightTensor(source.name(), kind, rows, cols, out.flip());
    }

    private static void q8Block(float[] x, int from, ByteBuffer out) {
        float amax = 0;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(x[from + i]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1 / d : 0;
        short half = f16(d);
        out.putShort(half);
        for (int i = 0; i < 32; i++) {
            out.put((byte) Math.round(x[from + i] * id));
        }
    }

    private static void q4Block(float[] x, int from, ByteBuffer out) {
        float amax = 0;
        float max = 0;
        for (int i = 0; i < 32; i++) {
            float v = x[from + i];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1 / d : 0;
        out.putShort(f16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[from + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[from + j + 16] * id + 8.5f));
            out.put((byte) (lo | (hi << 4)));
        }
    }

    /** bf16 bits of f, rounded to nearest even (NaN stays a quiet NaN). */
    public static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** IEEE half bits of f, rounded to nearest even; overflow to infinity, underflow through subnormals. */
    public static short f16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int magnitude = bits & 0x7FFFFFFF;
        if (magnitude > 0x7F800000) {
            return (short) (sign | 0x7E00);
        }
        if (magnitude >= 0x477FF000) { // rounds to 65520 or more: infinity
            return (short) (sign | 0x7C00);
        }
        if (magnitude < 0x38800000) { // below the smallest normal half: subnormal, in units of 2^-24
            float abs = Float.intBitsToFloat(magnitude);
            return (short) (sign | Math.round(abs * 0x1p24f) & 0xFFFF); // Math.round: ties up, rare at 2^-24 scale
        }
        int exponent = ((magnitude >>> 23) - 127 + 15) << 10;
        int mantissa = magnitude & 0x7FFFFF;
        int rounded = (mantissa + 0xFFF + ((mantissa >>> 13) & 1)) >>> 13;
        return (short) (sign | (exponent + rounded));
    }
}
