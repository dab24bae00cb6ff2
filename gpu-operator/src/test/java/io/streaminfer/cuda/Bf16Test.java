package io.streaminfer.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Bf16Test {

    @Test
    void exactValuesKeepTheirBits() {
        assertEquals((short) 0x3f80, Bf16.fromFloat(1.0f));
        assertEquals((short) 0xc000, Bf16.fromFloat(-2.0f));
        assertEquals((short) 0x0000, Bf16.fromFloat(0.0f));
        assertEquals((short) 0x8000, Bf16.fromFloat(-0.0f));
        assertEquals((short) 0x7f80, Bf16.fromFloat(Float.POSITIVE_INFINITY));
    }

    @Test
    void tiesRoundToEven() {
        // bf16 keeps 7 mantissa bits: the spacing next to 1 is 2^-7.
        float halfwayToOdd = 1.0f + 0x1p-8f;        // between 1 (even) and 1 + 2^-7 (odd)
        float halfwayToEven = 1.0f + 3 * 0x1p-8f;   // between 1 + 2^-7 (odd) and 1 + 2^-6 (even)
        assertEquals((short) 0x3f80, Bf16.fromFloat(halfwayToOdd));
        assertEquals((short) 0x3f82, Bf16.fromFloat(halfwayToEven));
        assertEquals((short) 0x3f81, Bf16.fromFloat(Math.nextUp(halfwayToOdd)), "just above a tie rounds up");
    }

    @Test
    void largestFiniteRoundsToInfinity() {
        assertEquals((short) 0x7f80, Bf16.fromFloat(Float.MAX_VALUE));
    }

    @Test
    void nanStaysNan() {
        assertTrue(Float.isNaN(Bf16.toFloat(Bf16.fromFloat(Float.NaN))));
        // a NaN whose payload sits only in the low half must not become infinity
        assertTrue(Float.isNaN(Bf16.toFloat(Bf16.fromFloat(Float.intBitsToFloat(0x7f800001)))));
    }

    @Test
    void everyBf16RoundTrips() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Bf16.toFloat((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, Bf16.fromFloat(f), "bits " + Integer.toHexString(bits));
            }
        }
    }

    @Test
    void roundingErrorIsAtMostHalfASpacing() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 100_000; i++) {
            float f = (float) ((random.nextDouble() - 0.5) * Math.pow(2, random.nextInt(-20, 20)));
            float r = Bf16.toFloat(Bf16.fromFloat(f));
            assertTrue(Math.abs(r - f) <= Math.abs(f) * 0x1p-8f, () -> f + " -> " + r);
        }
    }
}
