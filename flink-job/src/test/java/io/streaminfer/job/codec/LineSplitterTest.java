package io.streaminfer.job.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one rule by which input files become lines. */
class LineSplitterTest {
    private static List<LineSplitter.Line> split(byte[] bytes, int max) throws IOException {
        LineSplitter splitter = new LineSplitter(new ByteArrayInputStream(bytes), max);
        List<LineSplitter.Line> lines = new ArrayList<>();
        for (LineSplitter.Line l = splitter.next(); l != null; l = splitter.next()) {
            lines.add(l);
        }
        assertNull(splitter.next(), "the end stays the end");
        return lines;
    }

    private static List<String> texts(String text) throws IOException {
        return split(text.getBytes(StandardCharsets.UTF_8), 1 << 20).stream()
                .map(l -> new String(l.bytes(), StandardCharsets.UTF_8)).toList();
    }

    @Test
    void splitsOnLfOnlyAndDropsOneCrBeforeIt() throws IOException {
        assertEquals(List.of("a", "b\rc", "d\r", "", "e"), texts("a\r\nb\rc\nd\r\r\n\ne"));
        assertEquals(List.of("x"), texts("x\n"), "a final LF ends the last line; no empty line after it");
        assertEquals(List.of("x"), texts("x\r"), "a CR at the very end is a line end's");
        assertEquals(List.of(), texts(""));
        assertEquals(List.of("", ""), texts("\n\n"));
    }

    @Test
    void dropsAByteOrderMarkAtTheStartOfTheFileOnly() throws IOException {
        String bom = "\uFEFF";
        assertEquals(List.of("{}", bom + "{}"), texts(bom + "{}\n" + bom + "{}"));
        List<LineSplitter.Line> lines = split((bom + "ab").getBytes(StandardCharsets.UTF_8), 100);
        assertEquals(2, lines.get(0).length());
    }

    @Test
    void numbersLinesFromOneAndTellsBlankOnes() throws IOException {
        List<LineSplitter.Line> lines = split(" \t\r\n{}\n\n".getBytes(StandardCharsets.UTF_8), 100);
        assertEquals(List.of(1L, 2L, 3L), lines.stream().map(LineSplitter.Line::number).toList());
        assertTrue(lines.get(0).blank());
        assertFalse(lines.get(1).blank());
        assertTrue(lines.get(2).blank());
    }

    @Test
    void aLineLongerThanTheCapKeepsItsStartAndItsLength() throws IOException {
        byte[] bytes = ("0123456789".repeat(20_000) + "\r\nnext").getBytes(StandardCharsets.UTF_8); // across buffers
        List<LineSplitter.Line> lines = split(bytes, 1000);
        assertEquals(2, lines.size());
        LineSplitter.Line longOne = lines.get(0);
        assertTrue(longOne.truncated());
        assertFalse(longOne.blank());
        assertEquals(200_000, longOne.length());
        assertArrayEquals("0123456789".repeat(100).getBytes(StandardCharsets.UTF_8), longOne.bytes());
        assertEquals(2L, lines.get(1).number());
        assertEquals("next", new String(lines.get(1).bytes(), StandardCharsets.UTF_8));
        // exactly at the cap is not cut
        LineSplitter.Line exact = split("abc\r\n".getBytes(StandardCharsets.UTF_8), 3).get(0);
        assertFalse(exact.truncated());
        assertEquals("abc", new String(exact.bytes(), StandardCharsets.UTF_8));
    }
}
