package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.model.TextTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Text, ids and targets to tokens, and the one length rule, with a tokenizer of one token per character. */
class RequestPreparationTest {
    /** BOS (1) when asked, then one token per character (its code, below 128), merging "ab" into 200. */
    static final TextTokenizer CHARS = new TextTokenizer() {
        @Override
        public int vocabularySize() {
            return 256;
        }

        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            String merged = text.replace("ab", "\u00C8"); // 200
            int[] ids = new int[merged.length() + (addSpecialTokens ? 1 : 0)];
            int n = 0;
            if (addSpecialTokens) {
                ids[n++] = 1;
            }
            for (char c : merged.toCharArray()) {
                ids[n++] = c;
            }
            return ids;
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder text = new StringBuilder();
            for (int id : ids) {
                if (id != 1) { // BOS renders as nothing
                    text.append(id == 200 ? "ab" : String.valueOf((char) id));
                }
            }
            return text.toString();
        }

        @Override
        public StreamDecoder streamDecoder(int[] context) {
            throw new UnsupportedOperationException();
        }
    };

    private final RequestPreparation prep = new RequestPreparation(CHARS, 256, 10);

    private static GenerationRequest text(String prompt, String target) {
        return new GenerationRequest("r", prompt, null, target, SamplingParams.greedy(4));
    }

    private static GenerationRequest ids(int[] prompt, String target) {
        return new GenerationRequest("r", null, prompt, target, SamplingParams.greedy(4));
    }

    private String reason(GenerationRequest request) {
        return assertThrows(InvalidRequestException.class, () -> prep.prepare(request)).getMessage();
    }

    @Test
    void textIsTokenizedWithBosAndIdsAreTakenAsTheyAre() {
        RequestPreparation.Tokens t = prep.prepare(text("hi", null));
        assertArrayEquals(new int[] {1, 'h', 'i'}, t.prompt());
        assertNull(t.target());
        assertArrayEquals(new int[] {7, 8}, prep.prepare(ids(new int[] {7, 8}, null)).prompt());
        // given ids win over the text they were made from
        GenerationRequest both = new GenerationRequest("r", "hi", new int[] {1, 5}, null, SamplingParams.greedy(4));
        assertArrayEquals(new int[] {1, 5}, prep.prepare(both).prompt());
    }

    @Test
    void scoringSplitsPromptAndTargetAsTheyTokenizeTogether() {
        // "xa" + "b!": together "x", "ab", "!" — the merge crosses the boundary, so the target is {ab, !}
        RequestPreparation.Tokens t = prep.prepare(text("xa", "b!"));
        assertArrayEquals(new int[] {1, 'x'}, t.prompt());
        assertArrayEquals(new int[] {200, '!'}, t.target());
        // with prompt ids the target continues their text: the same split, the same tokens as from the text
        RequestPreparation.Tokens afterIds = prep.prepare(ids(new int[] {1, 'x', 'a'}, "b!"));
        assertArrayEquals(t.prompt(), afterIds.prompt());
        assertArrayEquals(t.target(), afterIds.target());
        RequestPreparation.Tokens alone = prep.prepare(ids(new int[] {1, 9}, "ab"));
        assertArrayEquals(new int[] {1, 9}, alone.prompt());
        assertArrayEquals(new int[] {200}, alone.target());
        // the validation step's tokens travel with the request and are not tokenized again
        GenerationRequest tokenized = prep.tokenize(text("xa", "b!"));
        assertEquals("xa", tokenized.prompt());
        assertEquals("b!", tokenized.target());
        assertArrayEquals(new int[] {1, 'x'}, tokenized.promptTokenIds());
        assertArrayEquals(new int[] {200, '!'}, tokenized.targetTokenIds());
        RequestPreparation noTokenizer = new RequestPreparation(null, 256, 10);
        assertArrayEquals(new int[] {200, '!'}, noTokenizer.prepare(tokenized).target());
    }

    @Test
    void oneLengthRuleForGeneratingAndScoring() {
        // generating reads the prompt: up to the context's 10 tokens
        assertEquals(10, prep.prepare(text("x".repeat(9), null)).prompt().length);
        assertEquals("prompt takes 11 tokens, more than the context of 10", reason(text("x".repeat(10), null)));
        assertEquals(10, prep.prepare(ids(new int[10], null)).prompt().length);
        assertTrue(reason(ids(new int[11], null)).contains("11 tokens"));
        // scoring reads all but the last target token: 11 together fit a context of 10
        RequestPreparation.Tokens fits = prep.prepare(text("x".repeat(5), "y".repeat(5)));
        assertEquals(11, fits.prompt().length + fits.target().length);
        assertTrue(reason(text("x".repeat(5), "y".repeat(6))).contains("take 12 tokens"));
        assertNull(RequestPreparation.lengthProblem(10, -1, 10));
        assertNull(RequestPreparation.lengthProblem(6, 5, 10));
    }

    @Test
    void requestsThatCannotRunSayWhy() {
        assertEquals("the prompt is empty", reason(ids(new int[0], null)));
        assertEquals("prompt token id 256 is outside the vocabulary [0, 256)", reason(ids(new int[] {1, 256}, null)));
        assertTrue(reason(ids(new int[] {1, -3}, null)).contains("-3"));
        // an empty target scores nothing, whichever way the prompt comes
        assertTrue(reason(ids(new int[] {1, 2}, "")).startsWith("the target is empty"));
        assertTrue(reason(text("hi", "")).startsWith("the target is empty"));
        // text that cannot fit the context whatever it tokenizes to is refused by its length, untokenized
        String huge = "x".repeat(RequestPreparation.MAX_BYTES_PER_TOKEN * 11 + 1);
        assertTrue(reason(text(huge, null)).contains("refused before tokenizing"), reason(text(huge, null)));
        assertTrue(reason(text("hi", huge)).startsWith("prompt and target take"));
        assertTrue(reason(ids(new int[] {1}, huge)).startsWith("target takes"));
        GenerationRequest badTarget = new GenerationRequest("r", "x", new int[] {1}, "y", SamplingParams.greedy(1),
                new int[] {999});
        assertTrue(reason(badTarget).startsWith("target token id 999"));
        RequestPreparation noTokenizer = new RequestPreparation(null, 256, 10);
        String why = assertThrows(InvalidRequestException.class, () -> noTokenizer.prepare(text("hi", null)))
                .getMessage();
        assertTrue(why.contains("no tokenizer"), why);
        GenerationRequest stops = new GenerationRequest("r", null, new int[] {1}, null,
                new SamplingParams(0f, 1f, 0, 3, 0, List.of("."), false));
        assertThrows(InvalidRequestException.class, () -> noTokenizer.prepare(stops));
        assertSame(InvalidRequestException.class, assertThrows(IllegalArgumentException.class,
                () -> prep.prepare(ids(new int[0], null))).getClass());
    }
}
