package io.streaminfer.comm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FixedOrderTest {

    @Test
    void fourPartsSumAsTwoPairs() {
        // (1e8 + 1) + (-1e8 + 1) = 0 in float; a left-to-right sum would give 1
        float[] parts = {1e8f, 1f, -1e8f, 1f};
        assertEquals(0f, FixedOrder.treeSum(parts, 0, 1, 0, 4));
    }

    @Test
    void columnSumsEqualTheTreeSumOfEachColumnBitwise() {
        Random random = new Random(7);
        for (int count = 1; count <= 9; count++) {
            int n = 37;
            int stride = n + 3;
            float[] parts = new float[2 + count * stride];
            for (int i = 0; i < parts.length; i++) {
                // wide exponents, so a different order would round differently
                parts[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(9) - 4));
            }
            float[] out = new float[n + 1];
            FixedOrder.treeSumColumns(parts, 2, stride, count, out, 1, n);
            for (int i = 0; i < n; i++) {
                float expected = FixedOrder.treeSum(parts, 2 + i, stride, 0, count);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[1 + i]),
                        "count " + count + ", column " + i);
            }
            assertEquals(0f, out[0], "nothing is written before outOff");
        }
    }
}
