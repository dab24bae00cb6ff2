package io.streaminfer.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/** Bad arguments fail with a message that names the problem. */
class BackendArgumentsTest {

    private static void assertMessage(Throwable e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' should mention '" + part + "'");
        }
    }

    @Test
    void packRejectsBadShapes() {
        for (String name : Backends.NAMES) {
            try (MatmulKernel backend = Backends.kernel(name, 1)) {
                FloatBuffer src = FloatBuffer.wrap(new float[100]);
                assertMessage(assertThrows(IllegalArgumentException.class, () -> backend.pack(src, 2, 10, 10, 3)),
                        "segments (3)", "divide k (10)");
                assertMessage(assertThrows(IllegalArgumentException.class, () -> backend.pack(src, 2, 10, 10, 0)),
                        "segments (0)");
                assertMessage(assertThrows(IllegalArgumentException.class, () -> backend.pack(src, 2, 10, 5, 1)),
                        "rowStride (5)");
                assertMessage(assertThrows(IllegalArgumentException.class, () -> backend.pack(src, 11, 10, 10, 1)),
                        "needs 110 floats", "100 remain");
                assertMessage(assertThrows(IllegalArgumentException.class, () -> backend.pack(src, 0, 10, 10, 1)),
                        "n and k");
                // The last row of a column slice may end before the stride does: 9 * 10 + 5 = 95 <= 100.
                assertEquals(10, backend.pack(src, 10, 5, 10, 1).rows());
            }
        }
    }

    @Test
    void matmulRejectsMismatchedSizes() {
        for (String name : Backends.NAMES) {
            try (MatmulKernel backend = Backends.kernel(name, 1)) {
                PackedMatrix w = backend.pack(FloatBuffer.wrap(new float[6 * 8]), 6, 8, 8, 2);
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> backend.matmul(new float[15], 2, w, new float[12])), "x holds 15", "m*k = 2*8");
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> backend.matmul(new float[16], 2, w, new float[11])), "out holds 11", "m*n = 2*6");
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> backend.matmul(new float[16], -1, w, new float[12])), "m must be >= 0");
            }
        }
    }

    @Test
    void matmulRejectsAMatrixPackedByAnotherBackend() {
        try (MatmulKernel scalar = new ScalarMatmul(); MatmulKernel vector = new VectorMatmul()) {
            PackedMatrix w = scalar.pack(FloatBuffer.wrap(new float[16]), 4, 4, 4, 1);
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> vector.matmul(new float[4], 1, w, new float[4])), "packed by another backend");
        }
    }

    @Test
    void factoryNamesTheValidBackends() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Backends.kernel("cuda-ish", 1)),
                "unknown compute backend 'cuda-ish'", "vector", "scalar", "openblas");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Backends.kernel(null, 1)), "valid names");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Backends.kernel("vector", 0)),
                "threads must be >= 1");
        for (String name : Backends.NAMES) {
            try (MatmulKernel backend = Backends.kernel(name, 2)) {
                assertEquals(name, backend.name());
            }
        }
    }

    @Test
    void vectorModuleIsDetectedWithoutTouchingVectorClasses() {
        // Surefire runs with --add-modules jdk.incubator.vector, so the module is there.
        assertTrue(VectorSupport.available());
        assertTrue(VectorOps.usesVectorApi());
    }

    @Test
    void closedBackendRefusesWork() {
        MatmulKernel backend = new VectorMatmul(2);
        PackedMatrix w = backend.pack(FloatBuffer.wrap(new float[4096 * 64]), 64, 4096, 4096, 1);
        backend.close();
        assertThrows(IllegalStateException.class, () -> backend.matmul(new float[4096], 1, w, new float[64]));
    }
}
