package io.streaminfer.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Oniguruma's reading of tokenizer.json regexes, where java.util.regex would read them differently. */
class HfRegexTest {

    @Test
    void whitespaceIsUnicodeWhiteSpace() {
        Pattern s = HfRegex.compile("\\s");
        for (char c : new char[] {' ', '\t', '\n', '\r', '\u000B', '\u000C', '\u0085', '\u00A0', '\u1680', '\u2000',
            '\u200A', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000'}) {
            assertTrue(s.matcher(String.valueOf(c)).matches(), String.format("U+%04X is \\s", (int) c));
        }
        for (char c : new char[] {'\u200B', '\uFEFF', 'a', '_', '\u180E'}) {
            assertFalse(s.matcher(String.valueOf(c)).matches(), String.format("U+%04X is not \\s", (int) c));
        }
        assertTrue(HfRegex.compile("[^\\s\\p{L}]").matcher("\uFEFF").matches());
        assertFalse(HfRegex.compile("[^\\s\\p{L}]").matcher("\u0085").matches());
        assertTrue(HfRegex.compile("\\S").matcher("\uFEFF").matches());
    }

    @Test
    void caseInsensitiveGroupsFoldAsciiOnly() {
        Pattern p = HfRegex.compile("(?i:'s|'t|'re)");
        assertTrue(p.matcher("'S").matches());
        assertTrue(p.matcher("'rE").matches());
        assertFalse(p.matcher("'\u017F").matches(), "long s folds to s only under Unicode case folding");
        assertFalse(HfRegex.compile("(?i:k)").matcher("\u212A").matches(), "the Kelvin sign is not k");
    }

    @Test
    void dotStopsOnlyAtNewline() {
        Pattern dot = HfRegex.compile(".");
        assertTrue(dot.matcher("\r").matches());
        assertTrue(dot.matcher("\u0085").matches());
        assertTrue(dot.matcher("\u2028").matches());
        assertFalse(dot.matcher("\n").matches());
    }

    @Test
    void digitsAndNumbersAreUnicode() {
        assertTrue(HfRegex.compile("\\d").matcher("\u0663").matches(), "Arabic-Indic three is \\d");
        assertTrue(HfRegex.compile("\\p{N}").matcher("\u00BD").matches(), "one half is \\p{N}");
        assertFalse(HfRegex.compile("\\d").matcher("\u00BD").matches());
        assertTrue(HfRegex.compile("\\p{Han}+").matcher("中文").matches(), "scripts by name");
        assertTrue(HfRegex.compile("\\x{41}+").matcher("AA").matches());
        assertTrue(HfRegex.compile("\\h+").matcher("09aF").matches(), "\\h is a hex digit, not horizontal space");
        assertTrue(HfRegex.compile("\\v").matcher("\u000B").matches());
        assertFalse(HfRegex.compile("\\v").matcher("\n").matches());
    }

    @Test
    void llama3PatternCutsAsHuggingFace() {
        String llama3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        assertEquals(List.of("Hello", ",", " world", "'S", " ", "123", "4", "  ", " x", "\u0085\n", "y"),
                matches(HfRegex.compile(llama3), "Hello, world'S 1234   x\u0085\ny"));
    }

    @Test
    void refusesWhatTheEnginesReadDifferently() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfRegex.compile("a{1,3}+"));
        assertTrue(e.getMessage().contains("possessive"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HfRegex.compile("[\\W]"));
        assertThrows(IllegalArgumentException.class, () -> HfRegex.compile("(unclosed"));
    }

    private static List<String> matches(Pattern p, String text) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }
}
