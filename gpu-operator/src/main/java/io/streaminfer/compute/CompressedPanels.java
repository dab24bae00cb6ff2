package io.streaminfer.compute;

import java.nio.ByteBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Weights kept in their storage kind (2 bytes for BF16/F16, about 1 for Q8_0, 0.5 for Q4_0), laid out in
 * {@link VectorMatmul}'s panels of 8 output columns, and expanded to fp32 panels one L2-sized tile at a
 * time just before the kernel reads them. Every expanded weight is exactly what {@link WeightTensor#readRow}
 * gives (a bf16/f16 value is a float; a quantized one is scale * value in one float multiply), so the
 * product is bitwise the fp32 kernel's on the dequantized weights, and as batch- and TP-invariant.
 */
abstract class CompressedPanels {
    static final int LANES = 8;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;

    final int panels;
    final int k;

    CompressedPanels(int panels, int k) {
        this.panels = panels;
        this.k = k;
    }

    /** Writes panels [from, to) as fp32 (panel - from, k, 8) into dst. */
    abstract void expand(int from, int to, float[] dst);

    /** Bytes the packed weights hold. */
    abstract long bytes();

    /** The kinds packed this way; others are expanded to fp32 panels once, at load. */
    static boolean supports(StorageKind kind) {
        return kind == StorageKind.BF16 || kind == StorageKind.F16 || kind == StorageKind.Q8_0
                || kind == StorageKind.Q4_0;
    }

    /**
     * Packs the stacked row blocks (all of one kind and width) into panels: output row j of the stack is
     * lane j % 8 of panel j / 8; rows past the stack are zero.
     */
    static CompressedPanels pack(StorageKind kind, WeightSlice[] blocks, int rows, int k) {
        int panels = (rows + LANES - 1) / LANES;
        CompressedPanels out = switch (kind) {
            case BF16, F16 -> new HalfPanels(kind, panels, k);
            case Q8_0 -> new Q8Panels(panels, k);
            case Q4_0 -> new Q4Panels(panels, k);
            default -> throw new IllegalArgumentException(kind + " weights are not packed as compressed panels");
        };
        int j = 0;
        for (WeightSlice b : blocks) {
            WeightTensor t = b.tensor();
            ByteBuffer bytes = t.bytesView();
            long rowBytes = kind.rowBytes(t.cols());
            for (int r = 0; r < b.rows(); r++, j++) {
                long rowStart = (b.rowStart() + r) * rowBytes + kind.rowBytes(b.colStart());
                out.putRow(bytes, (int) rowStart, j / LANES, j % LANES);
            }
        }
        return out;
    }

    /** Stores one source row (its first byte at {@code at}) as lane {@code lane} of panel {@code panel}. */
    abstract void putRow(ByteBuffer source, int at, int panel, int lane);

    /** BF16 or F16: the 16-bit patterns in panel order. */
    private static final class HalfPanels extends CompressedPanels {
        private final boolean bf16;
        private final short[] bits; // (panels, k, 8)

        HalfPanels(StorageKind kind, int panels, int k) {
            super(panels, k);
            this.bf16 = kind == StorageKind.BF16;
            this.bits = new short[Math.multiplyExact(Math.multiplyExact(panels, k), LANES)];
        }

        @Override
        void putRow(ByteBuffer source, int at, int panel, int lane) {
            int dst = panel * k * LANES + lane;
            for (int c = 0; c < k; c++) {
                bits[dst + c * LANES] = source.getShort(at + 2 * c);
            }
        }

        @Override
        void expand(int from, int to, float[] dst) {
            int begin = from * k * LANES;
            int end = to * k * LANES;
            if (bf16) {
                // a bf16 value is the top half of its float: widen, shift up 16
                for (int i = begin; i < end; i += LANES) {
                    ShortVector s = ShortVector.fromArray(S8, bits, i);
                    FloatVector f = s.convertShape(VectorOperators.S2I, jdk.incubator.vector.IntVector.SPECIES_256, 0)
                            .reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    f.intoArray(dst, i - begin);
                }
            } else {
                // f16 -> f32: the exponent and mantissa bits moved up 13 and scaled by 2^112 (exact, subnormals
                // included), the sign put back, and infinities / NaNs given the all-ones exponent
                jdk.incubator.vector.VectorSpecies<Integer> i8 = jdk.incubator.vector.IntVector.SPECIES_256;
                FloatVector scale = FloatVector.broadcast(F8, 0x1p112f);
                for (int i = begin; i < end; i += LANES) {
                    jdk.incubator.vector.IntVector h = (jdk.incubator.vector.IntVector) ShortVector.fromArray(S8, bits, i)
                            .convertShape(VectorOperators.S2I, i8, 0);
                    jdk.incubator.vector.IntVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
                    FloatVector f = magnitude.reinterpretAsFloats().mul(scale);
                    jdk.incubator.vector.VectorMask<Integer> special = h.and(0x7C00).eq(0x7C00);
                    jdk.incubator.vector.IntVector bitsOut = f.reinterpretAsInts()
                            .blend(magnitude.or(0x7F800000), special)
                            .or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16));
                    bitsOut.reinterpretAsFloats().intoArray(dst, i - begin);
                }
            }
        }

        @Override
        long bytes() {
            return 2L * bits.length;
        }
    }

    /** Q8_0: int8 values in panel order, and one float scale per (panel, 32-block of k, lane). */
    private static final class Q8Panels extends CompressedPanels {
        private final byte[] values;  // (panels, k, 8)
        private final float[] scales; // (panels, k / 32, 8)

        Q8Panels(int panels, int k) {
            super(panels, k);
            this.values = new byte[Math.multiplyExact(Math.multiplyExact(panels, k), LANES)];
            this.scales = new float[panels * (k / 32) * LANES];
        }

        @Override
        void putRow(ByteBuffer source, int at, int panel, int lane) {
            int blocks = k / 32;
            for (int q = 0; q < blocks; q++) {
                int block = at + q * 34;
                scales[(panel * blocks + q) * LANES + lane] = Half.toFloat(source.getShort(block));
                for (int i = 0; i < 32; i++) {
                    values[(panel * k + q * 32 + i) * LANES + lane] = source.get(block + 2 + i);
                }
            }
        }

        @Override
        void expand(int from, int to, float[] dst) {
            int blocks = k / 32;
            int out = 0;
            for (int p = from; p < to; p++) {
                for (int q = 0; q < blocks; q++) {
                    FloatVector scale = FloatVector.fromArray(F8, scales, (p * blocks + q) * LANES);
                    int in = (p * k + q * 32) * LANES;
                    for (int i = 0; i < 32; i++, in += LANES, out += LANES) {
                        ((FloatVector) ByteVector.fromArray(B8, values, in).convertShape(VectorOperators.B2F, F8, 0))
                                .mul(scale).intoArray(dst, out);
                    }
                }
            }
        }

        @Override
        long bytes() {
            return values.length + 4L * scales.length;
        }
    }

    /**
     * Q4_0: values -8..7 in nibbles, two consecutive k per byte (the low nibble first), in panel order, and
     * one float scale per (panel, 32-block of k, lane). A Q4_0 block holds y[j] in the low and y[j + 16] in
     * the high nibble of byte j; packing reorders them.
     */
    private static final class Q4Panels extends CompressedPanels {
        private final byte[] nibbles; // (panels, k / 2, 8)
        private final float[] scales; // (panels, k / 32, 8)

        Q4Panels(int panels, int k) {
            super(panels, k);
            this.nibbles = new byte[Math.multiplyExact(Math.multiplyExact(panels, k / 2), LANES)];
            this.scales = new float[panels * (k / 32) * LANES];
        }

        @Override
        void putRow(ByteBuffer source, int at, int panel, int lane) {
            int blocks = k / 32;
            int[] v = new int[32];
            for (int q = 0; q < blocks; q++) {
                int block = at + q * 18;
                scales[(panel * blocks + q) * LANES + lane] = Half.toFloat(source.getShort(block));
                for (int j = 0; j < 16; j++) {
                    int b = source.get(block + 2 + j) & 0xFF;
                    v[j] = b & 15;        // stored with +8: value + 8 in 0..15
                    v[j + 16] = b >>> 4;
                }
                for (int i = 0; i < 32; i += 2) {
                    nibbles[(panel * (k / 2) + (q * 32 + i) / 2) * LANES + lane] = (byte) (v[i] | (v[i + 1] << 4));
                }
            }
        }

        @Override
        void expand(int from, int to, float[] dst) {
            int blocks = k / 32;
            int out = 0;
            ByteVector eight = ByteVector.broadcast(B8, (byte) 8);
            for (int p = from; p < to; p++) {
                for (int q = 0; q < blocks; q++) {
                    FloatVector scale = FloatVector.fromArray(F8, scales, (p * blocks + q) * LANES);
                    int in = (p * (k / 2) + q * 16) * LANES;
                    for (int i = 0; i < 16; i++, in += LANES, out += 2 * LANES) {
                        ByteVector b = ByteVector.fromArray(B8, nibbles, in);
                        ByteVector low = b.and((byte) 15).sub(eight);
                        ByteVector high = b.lanewise(VectorOperators.LSHR, 4).and((byte) 15).sub(eight);
                        ((FloatVector) low.convertShape(VectorOperators.B2F, F8, 0)).mul(scale).intoArray(dst, out);
                        ((FloatVector) high.convertShape(VectorOperators.B2F, F8, 0)).mul(scale)
                                .intoArray(dst, out + LANES);
                    }
                }
            }
        }

        @Override
        long bytes() {
            return nibbles.length + 4L * scales.length;
        }
    }
}
