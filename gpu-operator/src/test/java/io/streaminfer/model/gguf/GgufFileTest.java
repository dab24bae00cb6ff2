package io.streaminfer.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.model.gguf.GgufMetadata.Array;
import io.streaminfer.model.gguf.GgufMetadata.ValueType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GGUF container: header, every metadata value type, arrays, tensor entries, alignment, and refusals. */
class GgufFileTest {
    @TempDir
    Path dir;

    @Test
    void readsEveryMetadataTypeAndArrays() throws IOException {
        Path file = new GgufWriter()
                .put("u8", ValueType.UINT8, 250).put("i8", ValueType.INT8, -5)
                .put("u16", ValueType.UINT16, 65000).put("i16", ValueType.INT16, -30000)
                .put("u32", ValueType.UINT32, 0xFFFFFFFFL).put("i32", ValueType.INT32, -7)
                .put("f32", ValueType.FLOAT32, 1.5f).put("bool", ValueType.BOOL, true)
                .put("str", ValueType.STRING, "héllo ▁").put("u64", ValueType.UINT64, 1L << 40)
                .put("i64", ValueType.INT64, -(1L << 40)).put("f64", ValueType.FLOAT64, 0.1)
                .array("floats", ValueType.FLOAT32, List.of(1f, -2f, 3.25f))
                .array("ints", ValueType.INT32, List.of(1, 2, 3))
                .array("u8s", ValueType.UINT8, List.of(200, 1))
                .array("strings", ValueType.STRING, List.of("a", "", "▁b"))
                .array("bools", ValueType.BOOL, List.of(true, false))
                .array("f64s", ValueType.FLOAT64, List.of(2.5))
                .array("nested", ValueType.ARRAY, List.of(List.of(ValueType.INT16, 4, 5), List.of(ValueType.STRING, "x")))
                .write(dir.resolve("m.gguf"));
        GgufFile gguf = GgufFile.read(file);
        GgufMetadata m = gguf.metadata();
        assertEquals(3, gguf.version());
        assertEquals(250, m.integer("u8"));
        assertEquals(-5, m.integer("i8"));
        assertEquals(65000, m.integer("u16"));
        assertEquals(-30000, m.integer("i16"));
        assertEquals(0xFFFFFFFFL, m.integer("u32"), "u32 is unsigned");
        assertEquals(-7, m.integer("i32"));
        assertEquals(1.5, m.real("f32", 0));
        assertTrue(m.bool("bool", false));
        assertEquals("héllo ▁", m.string("str"));
        assertEquals(1L << 40, m.integer("u64"));
        assertEquals(-(1L << 40), m.integer("i64"));
        assertEquals(0.1, m.real("f64", 0));
        assertEquals(ValueType.FLOAT64, m.type("f64"));
        assertArrayEquals(new float[] {1f, -2f, 3.25f}, m.floats("floats"));
        assertArrayEquals(new int[] {1, 2, 3}, m.ints("ints"));
        assertArrayEquals(new int[] {200, 1}, m.ints("u8s"));
        assertEquals(List.of("a", "", "▁b"), m.strings("strings"));
        assertArrayEquals(new boolean[] {true, false}, (boolean[]) m.array("bools", ValueType.BOOL).values());
        assertArrayEquals(new double[] {2.5}, (double[]) m.array("f64s", ValueType.FLOAT64).values());
        List<?> nested = (List<?>) m.array("nested", ValueType.ARRAY).values();
        assertArrayEquals(new long[] {4, 5}, (long[]) ((Array) nested.get(0)).values());
        assertEquals(List.of("x"), ((Array) nested.get(1)).values());
        assertEquals(List.of("u8", "i8", "u16"), m.keys().stream().limit(3).toList(), "file order");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.string("u32"));
        assertTrue(e.getMessage().contains("metadata u32 should be a string, found UINT32 4294967295"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.integer("absent"));
        assertEquals("metadata absent is missing", e.getMessage());
    }

    @Test
    void tensorDataStartsAtTheAlignmentAndEntriesKeepTheirShapes() throws IOException {
        Path file = new GgufWriter().u32(GgufFile.ALIGNMENT_KEY, 64)
                .f32Tensor("a.weight", new float[] {1, 2, 3}, 3)
                .f32Tensor("b.weight", new float[] {4, 5, 6, 7, 8, 9}, 3, 2)
                .write(dir.resolve("aligned.gguf"));
        GgufFile gguf = GgufFile.read(file);
        assertEquals(64, gguf.alignment());
        assertEquals(0, gguf.dataStart() % 64);
        assertEquals(List.of("a.weight", "b.weight"), gguf.tensors().stream().map(GgufFile.TensorInfo::name).toList());
        assertEquals(64, gguf.tensors().get(1).offset(), "the second tensor is aligned too");
        assertArrayEquals(new long[] {3, 2}, gguf.tensors().get(1).dims());
        assertEquals(6, gguf.tensors().get(1).elements());
    }

    @Test
    void refusesWhatIsNotAWellFormedGgufFileNamingWhere() throws IOException {
        byte[] good = new GgufWriter().string("general.architecture", "llama").array("tokenizer.ggml.tokens",
                ValueType.STRING, List.of("a", "b")).f32Tensor("x.weight", new float[4], 4).bytes();
        for (int cut : new int[] {8, 30, 60, good.length - 40}) {
            Path truncated = Files.write(dir.resolve("cut" + cut + ".gguf"), Arrays.copyOf(good, cut));
            IOException e = assertThrows(IOException.class, () -> GgufFile.read(truncated));
            assertTrue(e.getMessage().startsWith(truncated + " is a GGUF file but ends inside "), e.getMessage());
        }
        Path v1 = new GgufWriter().version(1).write(dir.resolve("v1.gguf"));
        IOException e = assertThrows(IOException.class, () -> GgufFile.read(v1));
        assertTrue(e.getMessage().contains("version 1; versions 2 and 3 are read"), e.getMessage());
        Path notGguf = Files.write(dir.resolve("x.gguf"), new byte[] {'G', 'G', 'M', 'L', 0, 0, 0, 0});
        e = assertThrows(IOException.class, () -> GgufFile.read(notGguf));
        assertTrue(e.getMessage().contains("not a GGUF file"), e.getMessage());
        Path badAlignment = new GgufWriter().u32(GgufFile.ALIGNMENT_KEY, 48).write(dir.resolve("a48.gguf"));
        e = assertThrows(IOException.class, () -> GgufFile.read(badAlignment));
        assertTrue(e.getMessage().contains("general.alignment = 48 is not a power of two"), e.getMessage());
        byte[] hugeCount = good.clone();
        hugeCount[8] = (byte) 0xFF; // tensor count far beyond what the file can hold
        hugeCount[12] = (byte) 0x7F;
        Path huge = Files.write(dir.resolve("huge.gguf"), hugeCount);
        e = assertThrows(IOException.class, () -> GgufFile.read(huge));
        assertTrue(e.getMessage().contains("tensor count") && e.getMessage().contains("cannot fit"), e.getMessage());
    }

    @Test
    void aVocabularyOnlyFileNeedNotPadToItsEmptyDataSection() throws IOException {
        byte[] padded = new GgufWriter().string("general.architecture", "llama").string("k", "abc").bytes();
        int unpadded = 4 + 4 + 8 + 8 + (8 + 20 + 4 + 8 + "llama".length()) + (8 + 1 + 4 + 8 + 3);
        assertTrue(padded.length > unpadded, "the writer pads to the alignment");
        Path file = Files.write(dir.resolve("vocab-only.gguf"), Arrays.copyOf(padded, unpadded));
        GgufFile gguf = GgufFile.read(file);
        assertEquals("abc", gguf.metadata().string("k"));
        assertEquals(0, gguf.tensors().size());
    }
}
