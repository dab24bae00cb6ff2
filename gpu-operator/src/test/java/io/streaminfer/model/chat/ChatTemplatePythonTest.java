package io.streaminfer.model.chat;

import org.junit.jupiter.api.Test;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The Python semantics behind the template functions; each expected value is what CPython 3 gives. */
class ChatTemplatePythonTest {
    @Test
    void stripFamily() {
        assertEquals("a b", PythonStrings.strip("\u00a0\u2003 a b\u3000\n\u001c", null));
        assertEquals(" a", PythonStrings.strip("\n a\n\n", "\n"));
        assertEquals("xxa", PythonStrings.rstrip("xxayy", "y"));
        assertEquals("ayy", PythonStrings.lstrip("xyxayy", "xy"));
        assertEquals("\ufeffa", PythonStrings.strip("\ufeffa ", null)); // U+FEFF is not whitespace to Python
    }

    @Test
    void splitFamily() {
        assertEquals(List.of("", "a", "", "b", ""), PythonStrings.split("-a--b-", "-", -1));
        assertEquals(List.of("a", "b-c"), PythonStrings.split("a-b-c", "-", 1));
        assertEquals(List.of(), PythonStrings.split(" \t\n", null, -1));
        assertEquals(List.of("a", "b  c  "), PythonStrings.split("  a b  c  ", null, 1));
        assertEquals(List.of("a-b", "c"), PythonStrings.rsplit("a-b-c", "-", 1));
        assertThrows(IllegalArgumentException.class, () -> PythonStrings.split("a", "", -1));
    }

    @Test
    void replaceTitleCapitalize() {
        assertEquals("-a-b-", PythonStrings.replace("ab", "", "-", -1));
        assertEquals("-ab", PythonStrings.replace("ab", "", "-", 1));
        assertEquals("xbxb", PythonStrings.replace("abab", "a", "x", 5));
        assertEquals("Hello 2World ǅx", PythonStrings.title("hELLO 2world ǆX"));
        assertEquals("Ssaa", PythonStrings.capitalize("ßAA")); // 'ß'.title() is 'Ss'
    }

    @Test
    void slicesAsPython() {
        assertEquals("[4, 3, 2, 1, 0]", Arrays.toString(Slices.indices(5, null, null, -1)));
        assertEquals("[1, 3]", Arrays.toString(Slices.indices(5, 1, -1, 2)));
        assertEquals("[4, 2]", Arrays.toString(Slices.indices(5, -1, 0, -2)));
        assertEquals("[]", Arrays.toString(Slices.indices(5, 3, 1, 1)));
        assertEquals("[0, 1, 2, 3, 4]", Arrays.toString(Slices.indices(5, -10, 10, null)));
        assertEquals(List.of(3, 2), Slices.slice(List.of(1, 2, 3), null, 0, -1));
        assertEquals("😀c", PythonStrings.slice("ab😀c", 2, null, null));
        assertThrows(IllegalArgumentException.class, () -> Slices.indices(3, null, null, 0));
    }

    @Test
    void jsonDumps() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("s", "é\"\\\n\u0001\u2028😀");
        value.put("f", List.of(0.1, 1e16, 1e-5, 0.0001, 100.0, -0.0, 1.5e300));
        value.put("e", Map.of());
        value.put("l", List.of());
        value.put("n", null);
        assertEquals("{\"s\": \"é\\\"\\\\\\n\\u0001\u2028😀\", \"f\": [0.1, 1e+16, 1e-05, 0.0001, 100.0, -0.0, 1.5e+300],"
                + " \"e\": {}, \"l\": [], \"n\": null}", PythonJson.DEFAULT.dumps(value));
        assertEquals("\"\\u00e9\\ud83d\\ude00\"", new PythonJson(true, null, null, false).dumps("é😀"));
        assertEquals("{\n\"a\": [\n1\n]\n}", new PythonJson(false, "", null, false).dumps(Map.of("a", List.of(1))));
        assertThrows(IllegalArgumentException.class, () -> PythonJson.DEFAULT.dumps(new Object()));
    }

    @Test
    void strftime() {
        ZonedDateTime t = ZonedDateTime.of(2025, 3, 7, 9, 5, 4, 0, ZoneOffset.UTC);
        assertEquals("07 Mar 2025|March 7, 2025|Fri Friday|09:05:04 AM|066|2025-03-07|%Q",
                HfExtensions.strftime(t, "%d %b %Y|%B %-d, %Y|%a %A|%H:%M:%S %p|%j|%F|%Q"));
    }
}
