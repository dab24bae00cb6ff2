package io.streaminfer.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The converters behind bench --weights: nearest-even halves, and ggml's Q8_0/Q4_0 block scales. */
class QuantizeTest {

    @Test
    void halvesRoundToNearestEven() {
        assertEquals((short) 0x3C00, Quantize.f16(1f));
        assertEquals((short) 0x7BFF, Quantize.f16(65504f));
        assertEquals((short) 0x7C00, Quantize.f16(65520f), "rounds up to infinity");
        assertEquals((short) 0x0001, Quantize.f16(0x1p-24f), "smallest subnormal");
        assertEquals((short) 0x8000, Quantize.f16(-0f));
        assertEquals((short) 0x3C00, Quantize.f16(1f + 0x1p-11f), "a tie goes to the even mantissa");
        assertEquals((short) 0x3C02, Quantize.f16(1f + 3 * 0x1p-11f), "a tie goes to the even mantissa");
        assertEquals((short) 0x3F80, Quantize.bf16(1f));
        assertEquals((short) 0x3F80, Quantize.bf16(Float.intBitsToFloat(0x3F808000)), "tie to even");
        assertEquals((short) 0x3F82, Quantize.bf16(Float.intBitsToFloat(0x3F818000)), "tie to even");
        Random random = new Random(3);
        for (int i = 0; i < 10_000; i++) {
            float x = (float) random.nextGaussian() * 100;
            float back = Half.toFloat(Quantize.f16(x));
            float halfUlp = Math.scalb(1f, Math.getExponent(x) - 10); // a half has 10 mantissa bits
            assertTrue(Math.abs(back - x) <= halfUlp / 2, x + " -> " + back);
        }
    }

    @Test
    void blockQuantizationStaysWithinAStepOfEachWeight() {
        Random random = new Random(7);
        float[] values = new float[4 * 64];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        values[5] = 0; // a block may contain zeros; one block is all zeros
        for (int i = 192; i < 224; i++) {
            values[i] = 0;
        }
        WeightTensor source = WeightTensor.ofFloats("w", 4, 64, values);
        for (StorageKind kind : new StorageKind[] {StorageKind.Q8_0, StorageKind.Q4_0}) {
            WeightTensor q = Quantize.to(kind, source);
            assertEquals(kind, q.kind());
            assertEquals(4 * 2L * kind.blockBytes(), q.bytes());
            float[] back = q.toFloats();
            for (int b = 0; b < values.length; b += 32) {
                float amax = 0;
                for (int i = b; i < b + 32; i++) {
                    amax = Math.max(amax, Math.abs(values[i]));
                }
                // Q8_0 rounds to the nearest of 255 steps; Q4_0's 16 levels run from -8 to 7 steps, so the side
                // opposite the largest magnitude can clamp by up to one whole step (as in ggml)
                float bound = kind == StorageKind.Q8_0 ? amax / 127 * 0.5f : amax / 8;
                for (int i = b; i < b + 32; i++) {
                    assertTrue(Math.abs(back[i] - values[i]) <= bound * 1.01f + 1e-7f,
                            kind + " element " + i + ": " + values[i] + " -> " + back[i]);
                }
            }
            assertTrue(back[200] == 0f, kind + ": an all-zero block stays zero (Q4_0: -0, as ggml makes it)");
        }
    }
}
