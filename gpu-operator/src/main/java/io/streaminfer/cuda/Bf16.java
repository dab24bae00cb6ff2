package io.streaminfer.cuda;

/**
 * bfloat16 conversions: the upper 16 bits of an IEEE float, rounded to nearest even. The kernel
 * {@code to_bf16} in transformer_kernels.cu does the same on the device.
 */
public final class Bf16 {
    private Bf16() {}

    /** The bfloat16 bits nearest to {@code value} (ties to even); NaN stays a quiet NaN of the same sign. */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** The float whose upper half is {@code bf16} (exact). */
    public static float toFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xffff) << 16);
    }
}
