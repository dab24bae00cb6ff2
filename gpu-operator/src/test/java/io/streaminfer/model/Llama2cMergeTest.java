package io.streaminfer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The heap-based merge of {@link Llama2cTokenizer} against run.c's rescan of every pair, kept here as the reference. */
class Llama2cMergeTest {

    /**
     * The merge loop as it was before the heap (run.c's): find the best-scoring pair, the first on ties, merge
     * it, shift the rest left, rescan. O(n^2): about 20 s for 100 KB of text.
     */
    static int[] referenceEncode(Llama2cTokenizer tokenizer, String text, boolean bos) {
        int[] tokens = tokenizer.unmergedSymbols(text, bos);
        int n = tokens.length;
        if (n < 2) {
            return tokens;
        }
        int[] pairMerge = new int[n - 1];
        for (int i = 0; i < n - 1; i++) {
            pairMerge[i] = tokenizer.mergedPiece(tokens[i], tokens[i + 1]);
        }
        while (true) {
            float bestScore = -1e10f;
            int bestIndex = -1;
            for (int i = 0; i < n - 1; i++) {
                int merged = pairMerge[i];
                if (merged >= 0 && tokenizer.score(merged) > bestScore) {
                    bestScore = tokenizer.score(merged);
                    bestIndex = i;
                }
            }
            if (bestIndex < 0) {
                return Arrays.copyOf(tokens, n);
            }
            tokens[bestIndex] = pairMerge[bestIndex];
            System.arraycopy(tokens, bestIndex + 2, tokens, bestIndex + 1, n - bestIndex - 2);
            System.arraycopy(pairMerge, bestIndex + 1, pairMerge, bestIndex, n - bestIndex - 2);
            n--;
            if (bestIndex > 0) {
                pairMerge[bestIndex - 1] = tokenizer.mergedPiece(tokens[bestIndex - 1], tokens[bestIndex]);
            }
            if (bestIndex < n - 1) {
                pairMerge[bestIndex] = tokenizer.mergedPiece(tokens[bestIndex], tokens[bestIndex + 1]);
            }
        }
    }

    @Test
    void heapMergeEqualsTheRescanOnRandomStrings() throws IOException {
        for (Object[] spec : new Object[][] {{"tok512.bin", 512}, {"llama2-tokenizer.bin", 32000}}) {
            Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedModelFiles.require((String) spec[0]), (Integer) spec[1]);
            List<String> texts = new java.util.ArrayList<>(randomTexts(300, 29));
            texts.addAll(List.of("aaaaaaaaaaaaaaaa", "   ", "\t\t\n\n", "the the the the the", "Once upon a time",
                    " ".repeat(40), "ab".repeat(50), "the quick brown fox ".repeat(20)));
            for (String text : texts) {
                assertArrayEquals(referenceEncode(tokenizer, text, true), tokenizer.encode(text, true, false),
                        spec[0] + ": '" + text + "'");
            }
        }
    }

    @Test
    void oneMegabyteEncodesQuickly() throws IOException {
        Llama2cTokenizer tokenizer = Llama2cTokenizer.load(SharedModelFiles.require("llama2-tokenizer.bin"), 32000);
        String text = proseOfLength(1 << 20);
        tokenizer.encode(text.substring(0, 100_000), true, false); // warm up
        long start = System.nanoTime();
        int[] ids = tokenizer.encode(text, true, false);
        double seconds = (System.nanoTime() - start) / 1e9;
        String small = text.substring(0, Integer.getInteger("llama2c.reference.chars", 20_000));
        long refStart = System.nanoTime();
        int[] reference = referenceEncode(tokenizer, small, true);
        double refSeconds = (System.nanoTime() - refStart) / 1e9;
        long newStart = System.nanoTime();
        int[] fast = tokenizer.encode(small, true, false);
        double newSeconds = (System.nanoTime() - newStart) / 1e9;
        assertArrayEquals(reference, fast, small.length() + " chars: heap merge equals the rescan");
        System.out.printf(Locale.ROOT, "llama2.c tokenizer: 1 MB -> %d ids in %.3f s (%.2f MB/s); %d chars: rescan %.2f s,"
                + " heap %.4f s%n", ids.length, seconds, text.length() / 1e6 / seconds, small.length(), refSeconds, newSeconds);
        assertTrue(seconds < 30, "1 MB took " + seconds + " s"); // a generous bound: this is a benchmark print
    }

    /** Deterministic random strings over ASCII, whitespace, controls, Latin, Greek, CJK, kana and emoji. */
    static List<String> randomTexts(int count, long seed) {
        int[][] ranges = {{0x20, 0x7E}, {0x20, 0x7E}, {0x09, 0x0D}, {0x00, 0x1F}, {0xC0, 0x17F}, {0x370, 0x3FF},
            {0x4E00, 0x4FFF}, {0x3040, 0x30FF}, {0x1F300, 0x1F6FF}, {0xE000, 0xE0FF}};
        java.util.Random random = new java.util.Random(seed);
        List<String> texts = new java.util.ArrayList<>();
        for (int t = 0; t < count; t++) {
            StringBuilder sb = new StringBuilder();
            int length = random.nextInt(40);
            for (int i = 0; i < length; i++) {
                int[] range = ranges[random.nextInt(ranges.length)];
                sb.appendCodePoint(range[0] + random.nextInt(range[1] - range[0] + 1));
            }
            texts.add(sb.toString());
        }
        return texts;
    }

    /** English-like text of about {@code length} characters, deterministic. */
    static String proseOfLength(int length) {
        String[] words = {"once", "upon", "a", "time", "there", "was", "little", "girl", "named", "Lily", "she",
            "loved", "to", "play", "outside", "in", "the", "park", "one", "day", "saw", "big", "red", "ball,", "and.",
            "tokenizer", "streaming", "inference", "café", "naïve", "日本", "12345", "x=42;", "\n"};
        StringBuilder sb = new StringBuilder(length + 16);
        long state = 12345;
        while (sb.length() < length) {
            state = state * 6364136223846793005L + 1442695040888963407L;
            sb.append(words[(int) ((state >>> 33) % words.length)]).append(' ');
        }
        sb.setLength(length);
        return sb.toString();
    }
}
