package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SlotAllocatorTest {
    @Test
    void slotsGoLowestFirstAndComeBack() {
        SlotAllocator slots = new SlotAllocator(3, 16);
        assertEquals(0, slots.allocate(4));
        assertEquals(1, slots.allocate(16));
        assertEquals(2, slots.allocate(1));
        assertFalse(slots.hasRoom());
        assertEquals(-1, slots.allocate(1));
        assertEquals(1.0, slots.usage());
        slots.release(1);
        assertTrue(slots.hasRoom());
        assertEquals(1, slots.allocate(2), "the freed slot is the lowest free one");
        assertThrows(IllegalArgumentException.class, () -> slots.allocate(17));
        slots.release(0);
        assertThrows(IllegalStateException.class, () -> slots.release(0));
        assertEquals(2 / 3.0, slots.usage());
    }
}
