package io.streaminfer.compute;

import java.nio.ByteBuffer;

/**
 * Scalar reference dequantization of ggml's block-quantized kinds (GGUF's block layouts): the values every
 * backend must reproduce. Each product and difference is one float operation in the order ggml's scalar
 * {@code dequantize_row_*} performs it, so the floats are bitwise those llama.cpp dequantizes to (Java never
 * fuses a multiply and an add). Blocks are read with absolute little-endian gets from the buffer given.
 *
 * <pre>
 * Q8_0  34 bytes / 32:  f16 d; i8 q[32]                          y[i] = q[i] * d
 * Q4_0  18 bytes / 32:  f16 d; u8 q[16]                          y[i] = (lo(q[i]) - 8) * d, y[i+16] = (hi(q[i]) - 8) * d
 * Q4_K 144 bytes / 256: f16 d; f16 dmin; u8 scales[12]; u8 q[128]
 *                       8 sub-blocks of 32, each with a 6-bit scale sc and a 6-bit min m packed in scales[]:
 *                       y = (d * sc) * q - dmin * m, q the 4-bit value
 * Q6_K 210 bytes / 256: u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d
 *                       16 sub-blocks of 16 with an 8-bit signed scale: y = (d * sc) * (q - 32), q the 6-bit
 *                       value of a low nibble from ql and two high bits from qh
 * </pre>
 */
public final class Dequantize {
    private Dequantize() {}

    /**
     * Dequantizes {@code blocks} consecutive blocks of {@code kind} that start at byte {@code offset} of
     * {@code src} (little-endian) into {@code dst[dstOff, dstOff + blocks * kind.blockSize())}.
     *
     * @throws UnsupportedOperationException for a kind that is not block-quantized
     */
    public static void blocks(StorageKind kind, ByteBuffer src, int offset, int blocks, float[] dst, int dstOff) {
        int bytes = kind.blockBytes();
        int size = kind.blockSize();
        for (int b = 0; b < blocks; b++) {
            int at = offset + b * bytes;
            int out = dstOff + b * size;
            switch (kind) {
                case Q8_0 -> q8_0(src, at, dst, out);
                case Q4_0 -> q4_0(src, at, dst, out);
                case Q4_K -> q4K(src, at, dst, out);
                case Q6_K -> q6K(src, at, dst, out);
                default -> throw new UnsupportedOperationException(kind + " is not a block-quantized kind");
            }
        }
    }

    /** One Q8_0 block: 32 signed bytes times one f16 scale. */
    static void q8_0(ByteBuffer src, int at, float[] dst, int off) {
        float d = Half.toFloat(src.getShort(at));
        for (int i = 0; i < 32; i++) {
            dst[off + i] = src.get(at + 2 + i) * d;
        }
    }

    /** One Q4_0 block: element i in the low nibble of byte i, element i + 16 in its high nibble, offset by 8. */
    static void q4_0(ByteBuffer src, int at, float[] dst, int off) {
        float d = Half.toFloat(src.getShort(at));
        for (int i = 0; i < 16; i++) {
            int q = src.get(at + 2 + i) & 0xFF;
            dst[off + i] = ((q & 0x0F) - 8) * d;
            dst[off + i + 16] = ((q >>> 4) - 8) * d;
        }
    }

    /**
     * One Q4_K super-block. Chunk c (of 4) holds 32 bytes of quants: sub-block 2c in their low nibbles and
     * sub-block 2c + 1 in their high nibbles.
     */
    static void q4K(ByteBuffer src, int at, float[] dst, int off) {
        float d = Half.toFloat(src.getShort(at));
        float dmin = Half.toFloat(src.getShort(at + 2));
        int scales = at + 4;
        int quants = at + 16;
        for (int chunk = 0; chunk < 4; chunk++) {
            int low = 2 * chunk;
            float d1 = d * q4KScale(src, scales, low);
            float m1 = dmin * q4KMin(src, scales, low);
            float d2 = d * q4KScale(src, scales, low + 1);
            float m2 = dmin * q4KMin(src, scales, low + 1);
            int q = quants + 32 * chunk;
            int y = off + 64 * chunk;
            for (int l = 0; l < 32; l++) {
                int v = src.get(q + l) & 0xFF;
                dst[y + l] = d1 * (v & 0x0F) - m1;
                dst[y + 32 + l] = d2 * (v >>> 4) - m2;
            }
        }
    }

    /**
     * The 6-bit scale of Q4_K sub-block {@code j} (0..7) from the 12 packed bytes at {@code scales}: bytes 0-3
     * hold scales 0-3 in their low 6 bits, bytes 4-7 mins 0-3 likewise; scales and mins 4-7 take their low 4
     * bits from the nibbles of bytes 8-11 and their high 2 bits from the top bits of bytes 0-3 (scales) and
     * 4-7 (mins).
     */
    static int q4KScale(ByteBuffer src, int scales, int j) {
        if (j < 4) {
            return src.get(scales + j) & 63;
        }
        return (src.get(scales + j + 4) & 0x0F) | (((src.get(scales + j - 4) & 0xFF) >>> 6) << 4);
    }

    /** The 6-bit min of Q4_K sub-block {@code j}; see {@link #q4KScale}. */
    static int q4KMin(ByteBuffer src, int scales, int j) {
        if (j < 4) {
            return src.get(scales + j + 4) & 63;
        }
        return ((src.get(scales + j + 4) & 0xFF) >>> 4) | (((src.get(scales + j) & 0xFF) >>> 6) << 4);
    }

    /**
     * One Q6_K super-block, as two halves of 128 elements. In half h, for l in [0, 32): element l takes the low
     * nibble of ql[l] and bits 0-1 of qh[l]; element l + 32 the low nibble of ql[l + 32] and bits 2-3; element
     * l + 64 the high nibble of ql[l] and bits 4-5; element l + 96 the high nibble of ql[l + 32] and bits 6-7
     * (ql, qh advanced by 64 and 32 bytes per half). Sub-block s (16 elements) has signed scale scales[s].
     */
    static void q6K(ByteBuffer src, int at, float[] dst, int off) {
        float d = Half.toFloat(src.getShort(at + 208));
        for (int half = 0; half < 2; half++) {
            int ql = at + 64 * half;
            int qh = at + 128 + 32 * half;
            int sc = at + 192 + 8 * half;
            int y = off + 128 * half;
            for (int l = 0; l < 32; l++) {
                int s = l / 16;
                int low = src.get(ql + l) & 0xFF;
                int lowNext = src.get(ql + l + 32) & 0xFF;
                int high = src.get(qh + l) & 0xFF;
                int q1 = ((low & 0x0F) | ((high & 3) << 4)) - 32;
                int q2 = ((lowNext & 0x0F) | (((high >>> 2) & 3) << 4)) - 32;
                int q3 = ((low >>> 4) | (((high >>> 4) & 3) << 4)) - 32;
                int q4 = ((lowNext >>> 4) | (((high >>> 6) & 3) << 4)) - 32;
                dst[y + l] = d * src.get(sc + s) * q1;
                dst[y + l + 32] = d * src.get(sc + s + 2) * q2;
                dst[y + l + 64] = d * src.get(sc + s + 4) * q3;
                dst[y + l + 96] = d * src.get(sc + s + 6) * q4;
            }
        }
    }
}
