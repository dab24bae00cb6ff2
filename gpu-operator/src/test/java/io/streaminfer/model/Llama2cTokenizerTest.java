package io.streaminfer.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Llama2cTokenizerTest {

    @TempDir
    Path tmp;

    /** One golden case: the text and run.c's encode(text, bos=1, eos=0). */
    record GoldenCase(String text, int[] ids) {
    }

    static List<GoldenCase> goldenCases(String resource) throws IOException {
        List<GoldenCase> cases = new ArrayList<>();
        try (InputStream in = Llama2cTokenizerTest.class.getResourceAsStream("/golden/" + resource)) {
            if (in == null) {
                throw new IOException("missing test resource /golden/" + resource);
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = reader.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                String[] parts = line.split("\\|", -1);
                String text = new String(HexFormat.of().parseHex(parts[0]), StandardCharsets.UTF_8);
                int[] ids = Arrays.stream(parts[1].split(",")).mapToInt(Integer::parseInt).toArray();
                cases.add(new GoldenCase(text, ids));
            }
        }
        assertTrue(cases.size() >= 10, "golden file " + resource + " has its cases");
        return cases;
    }

    @Test
    void encodesLikeRunCWithTok512() throws IOException {
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedModelFiles.require("tok512.bin"), 512);
        for (GoldenCase c : goldenCases("tokenizer_tok512_encode.txt")) {
            assertArrayEquals(c.ids(), tokenizer.encode(c.text(), true, false), "encode of '" + c.text() + "'");
        }
    }

    @Test
    void encodesLikeRunCWithLlama2Tokenizer() throws IOException {
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedModelFiles.require("llama2-tokenizer.bin"), 32000);
        for (GoldenCase c : goldenCases("tokenizer_llama2_encode.txt")) {
            assertArrayEquals(c.ids(), tokenizer.encode(c.text(), true, false), "encode of '" + c.text() + "'");
        }
    }

    @Test
    void roundTripsWithBothTokenizers() throws IOException {
        for (Object[] spec : new Object[][] {{"tok512.bin", 512}, {"llama2-tokenizer.bin", 32000}}) {
            Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedModelFiles.require((String) spec[0]), (Integer) spec[1]);
            List<String> texts = new ArrayList<>();
            goldenCases(spec[1].equals(512) ? "tokenizer_tok512_encode.txt" : "tokenizer_llama2_encode.txt")
                    .forEach(c -> texts.add(c.text()));
            texts.addAll(randomTexts(40, 11));
            for (String text : texts) {
                int[] withBos = tokenizer.encode(text, true, true);
                assertEquals(Llama2cTokenizer.BOS, withBos[0]);
                assertEquals(Llama2cTokenizer.EOS, withBos[withBos.length - 1]);
                assertEquals(text, tokenizer.decode(withBos, -1), spec[0] + ": BOS inside the array");
                int[] plain = tokenizer.encode(text, false, false);
                assertEquals(text, tokenizer.decode(plain, Llama2cTokenizer.BOS), spec[0] + ": BOS as previous token");
                assertEquals(text.isEmpty() ? "" : " " + text, tokenizer.decode(plain, -1),
                        spec[0] + ": without BOS the dummy prefix stays");
            }
        }
    }

    @Test
    void decodeJoinsBytesBeforeUtf8() throws IOException {
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedModelFiles.require("tok512.bin"), 512);
        byte[] e = "é".getBytes(StandardCharsets.UTF_8); // two bytes, no piece of its own in tok512
        int[] bytes = {(e[0] & 0xFF) + 3, (e[1] & 0xFF) + 3};
        assertEquals("<0xC3>", tokenizer.piece(bytes[0]));
        assertEquals("é", tokenizer.decode(bytes, -1));
        assertEquals("\uFFFD", tokenizer.decode(new int[] {bytes[0]}, -1), "a lone lead byte is malformed");
        assertArrayEquals(new byte[] {e[0]}, tokenizer.decodeBytes(new int[] {bytes[0]}, -1));
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {512}, -1));
    }

    @Test
    void decodesTheGoldenStoryLikeRunC() throws IOException {
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedModelFiles.require("tok512.bin"), 512);
        int[][] golden = GoldenIds.load("stories260K_once_upon_a_time_t0_n256.ids");
        assertArrayEquals(golden[0], tokenizer.encode("Once upon a time", true, false));
        int[] prompt = golden[0];
        int[] generated = golden[1];
        int[] printed = new int[prompt.length - 1 + generated.length];
        System.arraycopy(prompt, 1, printed, 0, prompt.length - 1);
        System.arraycopy(generated, 0, printed, prompt.length - 1, generated.length);
        String expected = GoldenIds.text("stories260K_once_upon_a_time_t0_n256.txt");
        // run.c prints every token after BOS, then a newline.
        assertEquals(expected, tokenizer.decode(printed, Llama2cTokenizer.BOS) + "\n");
    }

    @Test
    void refusesAFileWithFewerEntriesThanTheVocabulary() throws IOException {
        Path file = tmp.resolve("short-tokenizer.bin");
        ByteBuffer buffer = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(3);
        for (String piece : List.of("a", "b")) {
            buffer.putFloat(0f).putInt(1).put(piece.getBytes(StandardCharsets.UTF_8));
        }
        Files.write(file, Arrays.copyOf(buffer.array(), buffer.position()));
        IOException e = assertThrows(IOException.class, () -> Llama2cTokenizer.load(file, 3));
        assertTrue(e.getMessage().contains("entry 2"), e.getMessage());
        assertTrue(e.getMessage().contains("fewer entries"), e.getMessage());
        assertEquals(2, Llama2cTokenizer.load(file, 2).vocabularySize());
    }

    @Test
    void mergesTheBestScoringPairFirstAndTheFirstPairOnTies() throws IOException {
        // A toy vocabulary: 0-2 specials, 3 " ", 4 "a", 5 "b", 6 "ab" (score 1), 7 "ba" (score 1), 8 " a" (score 0.5).
        Path file = tmp.resolve("toy.bin");
        String[] pieces = {"<unk>", "<s>", "</s>", " ", "a", "b", "ab", "ba", " a"};
        float[] scores = {0, 0, 0, 0, 0, 0, 1, 1, 0.5f};
        ByteBuffer buffer = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN).putInt(5);
        for (int i = 0; i < pieces.length; i++) {
            byte[] bytes = pieces[i].getBytes(StandardCharsets.UTF_8);
            buffer.putFloat(scores[i]).putInt(bytes.length).put(bytes);
        }
        Files.write(file, Arrays.copyOf(buffer.array(), buffer.position()));
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(file, pieces.length);
        // " aba": [" ", a, b, a]; pairs " a"(0.5) ab(1) ba(1): the first best pair, ab, merges -> [" ", ab, a].
        assertArrayEquals(new int[] {3, 6, 4}, tokenizer.encode("aba", false, false));
        // "bab": [" ", b, a, b]: ba(1) before ab(1) -> [" ", ba, b].
        assertArrayEquals(new int[] {3, 7, 5}, tokenizer.encode("bab", false, false));
        assertArrayEquals(new int[] {1, 8}, tokenizer.encode("a", true, false), "' a' merges when nothing scores more");
    }

    /** Deterministic random strings over ASCII, Latin, Greek, CJK, emoji and control characters. */
    static List<String> randomTexts(int count, long seed) {
        int[][] ranges = {{0x20, 0x7E}, {0x09, 0x0D}, {0x00, 0x1F}, {0xC0, 0x17F}, {0x370, 0x3FF},
                {0x4E00, 0x4FFF}, {0x3040, 0x30FF}, {0x1F300, 0x1F6FF}, {0xE000, 0xE0FF}};
        long state = seed;
        List<String> texts = new ArrayList<>();
        for (int t = 0; t < count; t++) {
            StringBuilder sb = new StringBuilder();
            state = state * 6364136223846793005L + 1442695040888963407L;
            int length = (int) ((state >>> 33) % 30);
            for (int i = 0; i < length; i++) {
                state = state * 6364136223846793005L + 1442695040888963407L;
                int[] range = ranges[(int) ((state >>> 33) % ranges.length)];
                state = state * 6364136223846793005L + 1442695040888963407L;
                sb.appendCodePoint(range[0] + (int) ((state >>> 33) % (range[1] - range[0] + 1)));
            }
            texts.add(sb.toString());
        }
        return texts;
    }
}
