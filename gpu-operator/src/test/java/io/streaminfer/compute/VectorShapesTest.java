package io.streaminfer.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class VectorShapesTest {
    @Test
    void wideVectorsOnlyWhereTheMachineHasThemAndTheJvmKeepsThemIntrinsified() {
        assertEquals(512, VectorShapes.wideBits(512, 25, null));
        assertEquals(256, VectorShapes.wideBits(512, 17, null), "JDK 17 boxes 512-bit kernels next to 256-bit ones");
        assertEquals(256, VectorShapes.wideBits(256, 25, null), "an AVX2 machine");
        assertEquals(512, VectorShapes.wideBits(512, 17, "512"), "the override");
        assertEquals(256, VectorShapes.wideBits(512, 25, "256"));
        assertEquals(256, VectorShapes.wideBits(256, 25, "512"), "never wider than the machine");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VectorShapes.wideBits(512, 25, "384"));
        assertTrue(e.getMessage().contains(VectorShapes.PROPERTY), e.getMessage());
    }
}
