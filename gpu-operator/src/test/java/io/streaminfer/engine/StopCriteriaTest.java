package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.engine.GenerationResult.FinishReason;
import io.streaminfer.model.Llama2cTokenizer;
import io.streaminfer.model.SharedModelFiles;
import io.streaminfer.model.TextTokenizer;
import io.streaminfer.model.Utf8Stream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Stop strings across tokens, multi-byte characters and EOS, and agreement with decoding everything each token. */
class StopCriteriaTest {

    /** Token i stands for the bytes of piece i; ids 0 and 1 are EOS and BOS (no text). */
    static class ByteTokenizer implements TextTokenizer {
        private final byte[][] pieces;

        ByteTokenizer(byte[]... pieces) {
            this.pieces = pieces;
        }

        static ByteTokenizer of(String... texts) {
            byte[][] pieces = new byte[texts.length + 2][];
            pieces[0] = new byte[0];
            pieces[1] = new byte[0];
            for (int i = 0; i < texts.length; i++) {
                pieces[i + 2] = texts[i].getBytes(StandardCharsets.UTF_8);
            }
            return new ByteTokenizer(pieces);
        }

        @Override
        public int vocabularySize() {
            return pieces.length;
        }

        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String decode(int[] ids) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (int id : ids) {
                out.writeBytes(pieces[id]);
            }
            return Llama2cTokenizer.decodeUtf8(out.toByteArray());
        }

        @Override
        public StreamDecoder streamDecoder(int[] context) {
            Utf8Stream utf8 = new Utf8Stream();
            return new StreamDecoder() {
                @Override
                public String next(int token) {
                    return utf8.push(pieces[token]);
                }

                @Override
                public String finish() {
                    return utf8.finish();
                }
            };
        }
    }

    private static StopCriteria criteria(TextTokenizer tokenizer, int maxTokens, String... stops) {
        return new StopCriteria(t -> t == 0, maxTokens, List.of(stops), tokenizer, new int[] {1});
    }

    /** Feeds tokens until one ends the sequence; returns its index, or -1. */
    private static int run(StopCriteria c, int... tokens) {
        for (int i = 0; i < tokens.length; i++) {
            if (c.isEos(tokens[i]) || c.accept(tokens[i], false) != null) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void theModelsAndTheTokenizersEosIdsBothEndGeneration() {
        io.streaminfer.model.ModelConfig config = io.streaminfer.model.ModelConfig.llama2c(8, 16, 1, 2, 2, 32, 16, true);
        ByteTokenizer plain = ByteTokenizer.of("a", "b", "c");
        java.util.function.IntPredicate modelOnly = StopCriteria.eosOf(config, plain);
        assertTrue(modelOnly.test(1) && modelOnly.test(2), "llama2.c's BOS and EOS");
        assertFalse(modelOnly.test(4));
        TextTokenizer withEos = new ByteTokenizer(plain.pieces) {
            @Override
            public int[] eosTokenIds() {
                return new int[] {4, 30};
            }
        };
        java.util.function.IntPredicate both = StopCriteria.eosOf(config, withEos);
        assertTrue(both.test(1) && both.test(2) && both.test(4) && both.test(30), "tokenizer_config's eos_token too");
        assertFalse(both.test(3) || both.test(31));
        assertFalse(StopCriteria.eosOf(config, null).test(4));
    }

    @Test
    void aStopStringSplitOverTokensCutsTheTextBeforeIt() {
        ByteTokenizer tok = ByteTokenizer.of("he", "llo", " wor", "ld", "!");
        StopCriteria c = criteria(tok, 100, "lo w");
        assertNull(c.accept(2, false));
        assertNull(c.accept(3, false));
        assertEquals(FinishReason.STOP, c.accept(4, false));
        assertEquals("hel", c.text());
    }

    @Test
    void theEarliestStopWinsWhicheverCompletesFirstOrIsListedFirst() {
        ByteTokenizer tok = ByteTokenizer.of("he", "llo", " wor", "ld");
        StopCriteria c = criteria(tok, 100, "world", "o w");
        assertEquals(2, run(c, 2, 3, 4, 5));
        assertEquals("hell", c.text());
        // two stops complete with one token: the one that starts first cuts
        StopCriteria both = criteria(tok, 100, "lo", "hel");
        assertEquals(1, run(both, 2, 3));
        assertEquals("", both.text());
        // a stop inside the new piece, and one spanning the previous piece
        StopCriteria inside = criteria(ByteTokenizer.of("abc", "xyzzy"), 100, "zz", "cx");
        assertEquals(1, run(inside, 2, 3));
        assertEquals("ab", inside.text());
    }

    @Test
    void multiByteCharactersMatchOnceCompleteAndNeverHalfway() {
        // é = C3 A9; 😀 = F0 9F 98 80, split 1 + 3
        ByteTokenizer tok = new ByteTokenizer(new byte[0], new byte[0], "caf".getBytes(StandardCharsets.UTF_8),
                new byte[] {(byte) 0xC3}, new byte[] {(byte) 0xA9}, new byte[] {(byte) 0xF0},
                new byte[] {(byte) 0x9F, (byte) 0x98, (byte) 0x80}, " ok".getBytes(StandardCharsets.UTF_8));
        StopCriteria accent = criteria(tok, 100, "é");
        assertNull(accent.accept(2, false));
        assertNull(accent.accept(3, false), "half of é matches nothing");
        assertEquals(FinishReason.STOP, accent.accept(4, false));
        assertEquals("caf", accent.text());

        StopCriteria emoji = criteria(tok, 100, "😀 o");
        assertEquals(5, run(emoji, 2, 3, 4, 5, 6, 7));
        assertEquals("café", emoji.text());

        StopCriteria none = criteria(tok, 6, "zz");
        assertEquals(5, run(none, 2, 3, 4, 5, 6, 7));
        assertEquals("café😀 ok", none.text());
        // a character cut off by the end of the completion decodes to U+FFFD, as a whole decode gives
        StopCriteria cut = criteria(tok, 2, "zz");
        assertEquals(1, run(cut, 2, 5));
        assertEquals("caf\uFFFD", cut.text());
    }

    @Test
    void aReplacementCharacterStopMatchesAnUnfinishedCharacterAsAWholeDecodeWould() {
        ByteTokenizer tok = new ByteTokenizer(new byte[0], new byte[0], "ab".getBytes(StandardCharsets.UTF_8),
                new byte[] {(byte) 0xC3}, new byte[] {(byte) 0xA9});
        StopCriteria c = criteria(tok, 100, "\uFFFD");
        assertNull(c.accept(2, false));
        assertEquals(FinishReason.STOP, c.accept(3, false), "ab + C3 decodes as ab\uFFFD");
        assertEquals("ab", c.text());
    }

    @Test
    void eosEndsWithoutBeingTextAndLimitsEndWithLength() {
        ByteTokenizer tok = ByteTokenizer.of("a", "b");
        StopCriteria eos = criteria(tok, 100);
        assertEquals(2, run(eos, 2, 3, 0, 2));
        assertTrue(eos.isEos(0));
        assertFalse(eos.isEos(1), "only the model's EOS ids stop");
        assertEquals("ab", eos.text());
        assertEquals(2, eos.generated(), "EOS is not a generated token");

        StopCriteria max = criteria(tok, 3);
        assertNull(max.accept(2, false));
        assertNull(max.accept(3, false));
        assertEquals(FinishReason.LENGTH, max.accept(2, false));
        assertEquals("aba", max.text());

        StopCriteria context = criteria(tok, 100, "x");
        assertEquals(FinishReason.LENGTH, context.accept(2, true));
        // a stop string completing with the last token is a stop, not a length
        StopCriteria both = criteria(tok, 2, "ab");
        assertNull(both.accept(2, false));
        assertEquals(FinishReason.STOP, both.accept(3, true));
        assertEquals("", both.text());
    }

    @Test
    void restoredTokensAreTextButNotChecked() {
        ByteTokenizer tok = ByteTokenizer.of("x.", "y", ".z");
        StopCriteria c = criteria(tok, 10, ".");
        c.restore(3);
        assertEquals(1, c.generated());
        assertEquals(FinishReason.STOP, c.accept(4, false));
        assertEquals("y", c.text());
        StopCriteria early = criteria(tok, 10, ".");
        early.restore(2); // the stop was already in the restored text: found at the next token, as before
        assertEquals(FinishReason.STOP, early.accept(3, false));
        assertEquals("x", early.text());
    }

    @Test
    void withoutATokenizerTheTextIsEmptyAndStopsAreRefused() {
        StopCriteria c = new StopCriteria(t -> t == 2, 2, List.of(), null, new int[] {1});
        assertNull(c.accept(5, false));
        assertEquals(FinishReason.LENGTH, c.accept(6, false));
        assertEquals("", c.text());
        assertThrows(IllegalArgumentException.class,
                () -> new StopCriteria(t -> false, 2, List.of("."), null, new int[] {1}));
    }

    /** The replica's rule before incremental decoding: decode the whole completion each token, search it all. */
    private record Outcome(int endedAt, FinishReason reason, String text) {}

    private static Outcome reference(java.util.function.Function<int[], String> decodeAll, List<String> stops,
                                     int maxTokens, int[] tokens) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == 0) {
                return new Outcome(i, FinishReason.STOP, decodeAll.apply(Arrays.copyOf(tokens, i)));
            }
            String text = decodeAll.apply(Arrays.copyOf(tokens, i + 1));
            int first = -1;
            for (String stop : stops) {
                int at = text.indexOf(stop);
                if (at >= 0 && (first < 0 || at < first)) {
                    first = at;
                }
            }
            if (first >= 0) {
                return new Outcome(i, FinishReason.STOP, text.substring(0, first));
            }
            if (i + 1 >= maxTokens) {
                return new Outcome(i, FinishReason.LENGTH, text);
            }
        }
        return new Outcome(-1, null, null);
    }

    private static Outcome incremental(TextTokenizer tokenizer, List<String> stops, int maxTokens, int[] tokens) {
        StopCriteria c = new StopCriteria(t -> t == 0, maxTokens, stops, tokenizer, new int[] {1});
        for (int i = 0; i < tokens.length; i++) {
            if (c.isEos(tokens[i])) {
                return new Outcome(i, FinishReason.STOP, c.text());
            }
            FinishReason reason = c.accept(tokens[i], false);
            if (reason != null) {
                return new Outcome(i, reason, c.text());
            }
        }
        return new Outcome(-1, null, null);
    }

    /** Stop strings cut from a decode of the tokens (so they do occur), plus a few that may not. */
    private static List<String> stopsFor(String text, SplittableRandom random) {
        List<String> stops = new ArrayList<>();
        int count = 1 + random.nextInt(3);
        for (int i = 0; i < count && !text.isEmpty(); i++) {
            int from = random.nextInt(text.length());
            int to = Math.min(text.length(), from + 1 + random.nextInt(6));
            String stop = text.substring(from, to);
            if (!stop.isEmpty() && !Character.isLowSurrogate(stop.charAt(0))
                    && !Character.isHighSurrogate(stop.charAt(stop.length() - 1))) {
                stops.add(stop);
            }
        }
        stops.add(random.nextBoolean() ? "\uFFFD" : "é");
        return stops;
    }

    @Test
    void agreesWithWholeDecodesOnRandomByteTokens() {
        // every single byte as a token, plus a few multi-byte pieces: random sequences make broken UTF-8 too
        byte[][] pieces = new byte[2 + 256 + 4][];
        pieces[0] = new byte[0];
        pieces[1] = new byte[0];
        for (int b = 0; b < 256; b++) {
            pieces[2 + b] = new byte[] {(byte) b};
        }
        String[] extra = {"é", "😀", " the", "ab"};
        for (int i = 0; i < extra.length; i++) {
            pieces[258 + i] = extra[i].getBytes(StandardCharsets.UTF_8);
        }
        ByteTokenizer tok = new ByteTokenizer(pieces);
        SplittableRandom random = new SplittableRandom(99);
        for (int trial = 0; trial < 3000; trial++) {
            int[] tokens = new int[1 + random.nextInt(40)];
            for (int i = 0; i < tokens.length; i++) {
                int kind = random.nextInt(10);
                tokens[i] = kind < 5 ? 2 + 'a' + random.nextInt(4)          // ascii letters
                        : kind < 7 ? 2 + 0x80 + random.nextInt(0x80)         // continuation / lead bytes
                        : kind < 9 ? 258 + random.nextInt(extra.length)
                        : random.nextInt(20) == 0 ? 0 : 2 + random.nextInt(256);
            }
            List<String> stops = stopsFor(tok.decode(tokens), random);
            int max = 1 + random.nextInt(50);
            assertEquals(reference(tok::decode, stops, max, tokens), incremental(tok, stops, max, tokens),
                    "tokens " + Arrays.toString(tokens) + ", stops " + stops);
        }
    }

    @Test
    void agreesWithWholeDecodesOnTheRealTokenizer() throws Exception {
        Llama2cTokenizer tok = Llama2cTokenizer.load(SharedModelFiles.require("tok512.bin"), 512);
        SplittableRandom random = new SplittableRandom(5);
        for (int trial = 0; trial < 1500; trial++) {
            int[] tokens = new int[1 + random.nextInt(60)];
            for (int i = 0; i < tokens.length; i++) {
                // byte tokens (3..258) often, so characters split over tokens; BOS (1) stands for text too
                tokens[i] = random.nextInt(3) == 0 ? 3 + 0x80 + random.nextInt(0x80) : 1 + random.nextInt(511);
            }
            List<String> stops = stopsFor(tok.decode(tokens, 1), random);
            int max = 1 + random.nextInt(70);
            // id 0 is EOS to both sides; the replica's old decode is the concrete tokenizer's decode(ids, previous)
            assertEquals(reference(t -> tok.decode(t, 1), stops, max, tokens), incremental(tok, stops, max, tokens),
                    "tokens " + Arrays.toString(tokens) + ", stops " + stops);
        }
    }
}
