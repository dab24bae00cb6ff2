package io.streaminfer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Llama 3.1's banded frequency scaling, as DESIGN ("Hugging Face checkpoints") states it. */
class RopeConfigTest {
    private static final RopeConfig.Scaling LLAMA31 = RopeConfig.Scaling.llama3(8f, 1f, 4f, 8192);

    @Test
    void longWavelengthsAreDividedShortOnesKeptAndTheBandBetweenBlended() {
        double low = 2 * Math.PI / 10000; // wavelength 10000 > 8192 / 1: divided by the factor
        assertEquals(low / 8, LLAMA31.apply(low), 1e-15);
        double high = 2 * Math.PI / 1000; // wavelength 1000 < 8192 / 4: kept
        assertEquals(high, LLAMA31.apply(high), 0);
        double mid = 2 * Math.PI / 4096;  // between: smooth = (8192 / 4096 - 1) / (4 - 1) = 1/3
        double smooth = 1.0 / 3;
        assertEquals((1 - smooth) * mid / 8 + smooth * mid, LLAMA31.apply(mid), 1e-15);
        assertEquals(0.25, RopeConfig.Scaling.linear(4f).apply(1.0), 0);
        assertEquals(0.5, RopeConfig.Scaling.NONE.apply(0.5), 0);
    }

    @Test
    void scaledTablesDifferFromPlainOnlyWhereTheScalingActs() {
        ModelConfig plain = ModelConfig.llama2c(64, 128, 1, 2, 2, 32, 16, true);
        ModelConfig scaled = plain.toBuilder().rope(new RopeConfig(RopeConfig.Layout.ADJACENT_PAIRS, 10000f,
                RopeConfig.Scaling.llama3(8f, 1f, 4f, 64))).build();
        RotaryAngles a = RotaryAngles.of(plain, 16);
        RotaryAngles b = RotaryAngles.of(scaled, 16);
        assertEquals(a.cos()[a.pairs()], b.cos()[a.pairs()], "pair 0 turns fastest: wavelength 2*pi < 64/4, kept");
        assertTrue(a.cos()[15 * a.pairs() + 8] != b.cos()[15 * a.pairs() + 8], "a middle pair is rescaled");
        int slowest = a.pairs() - 1; // wavelength ~ 2*pi*5600 > 64: divided by 8
        assertEquals((float) Math.cos(15 * (1.0f / (float) Math.pow(10000f, 2f * slowest / 32) / 8f)),
                b.cos()[15 * a.pairs() + slowest], 1e-6f);
    }

    @Test
    void badScalingIsRefusedWithItsNumbers() {
        assertThrows(IllegalArgumentException.class, () -> RopeConfig.Scaling.llama3(8f, 4f, 1f, 8192));
        assertThrows(IllegalArgumentException.class, () -> RopeConfig.Scaling.linear(0f));
        assertThrows(IllegalArgumentException.class, () -> new RopeConfig(RopeConfig.Layout.ROTATE_HALF, -1f,
                RopeConfig.Scaling.NONE));
    }
}
