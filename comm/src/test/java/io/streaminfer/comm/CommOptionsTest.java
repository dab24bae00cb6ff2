package io.streaminfer.comm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CommOptionsTest {

    @Test
    void readsBackendAndDurationsFromConfiguration() {
        CommOptions o = CommOptions.fromMap(Map.of("comm.backend", "nccl", "comm.timeout", "250ms",
                "comm.spin-wait", "5us"));
        assertEquals(CommBackend.NCCL, o.backend());
        assertEquals(Duration.ofMillis(250), o.timeout());
        assertEquals(Duration.ofNanos(5000), o.spinWait());
        assertEquals(CommOptions.inProcess(), CommOptions.fromMap(Map.of()));
        assertEquals(Duration.ofSeconds(30), CommOptions.fromMap(Map.of("comm.timeout", "PT30S")).timeout());
        assertEquals(CommBackend.IN_PROCESS, CommBackend.parse("In-Process"));
    }

    @Test
    void badValuesNameTheProblem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CommOptions.fromMap(Map.of("comm.backend", "mpi")));
        assertTrue(e.getMessage().contains("'mpi'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CommOptions.fromMap(Map.of("comm.timeout", "10")));
        assertTrue(e.getMessage().contains("comm.timeout"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> CommOptions.inProcess().withTimeout(Duration.ZERO));
        assertTrue(e.getMessage().contains("timeout"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new GroupCoordinator(CommOptions.inProcess()).form("x", 0));
        assertTrue(e.getMessage().contains("size"), e.getMessage());
    }
}
