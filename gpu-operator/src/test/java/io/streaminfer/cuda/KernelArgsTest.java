package io.streaminfer.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.Test;

/** The launch argument block, read back from host memory (no GPU needed). */
class KernelArgsTest {

    @Test
    void entriesPointAtSlotsHoldingTheValues() {
        try (KernelArgs args = new KernelArgs()) {
            args.clear().ptr(0x7f00_1234_5678L).i32(-5).f32(1.5f).ptr(0);
            assertEquals(4, args.count());
            for (int i = 0; i < 4; i++) {
                assertEquals(args.slotAddress(i), args.params().get(i).address(), "params[" + i + "]");
            }
            LongPointer slot0 = new LongPointer(new AddressPointer(args.slotAddress(0)));
            assertEquals(0x7f00_1234_5678L, slot0.get(0));
            IntPointer slot1 = new IntPointer(new AddressPointer(args.slotAddress(1)));
            assertEquals(-5, slot1.get(0), "an int sits in the slot's first 4 bytes");
            assertEquals(Float.floatToIntBits(1.5f),
                    new IntPointer(new AddressPointer(args.slotAddress(2))).get(0));
            assertEquals(0L, new LongPointer(new AddressPointer(args.slotAddress(3))).get(0));
        }
    }

    @Test
    void clearStartsOverAndTooManyArgumentsAreRefused() {
        try (KernelArgs args = new KernelArgs()) {
            for (int i = 0; i < KernelArgs.MAX_ARGS; i++) {
                args.i32(i);
            }
            assertThrows(IllegalStateException.class, () -> args.i32(99));
            args.clear().i32(42);
            assertEquals(1, args.count());
            assertEquals(42, new IntPointer(new AddressPointer(args.slotAddress(0))).get(0));
        }
    }
}
