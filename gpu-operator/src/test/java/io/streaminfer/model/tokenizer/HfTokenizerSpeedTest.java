package io.streaminfer.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Encoding speed on 1 MB inputs: prose, and the worst shapes (one 1 MB pre-token, runs of spaces or digits). */
class HfTokenizerSpeedTest {
    private static final int MEGABYTE = 1 << 20;

    @ParameterizedTest
    @ValueSource(strings = {"llama3-instruct", "qwen3", "mistral"})
    void oneMegabyteEncodesInLinearTime(String name) {
        HfTokenizer tokenizer = SharedTokenizers.load(name);
        Map<String, String> inputs = Map.of(
                "prose", prose(MEGABYTE, 1),
                "one word of 'a'", "a".repeat(MEGABYTE),
                "spaces", " ".repeat(MEGABYTE),
                "digits", "7".repeat(MEGABYTE),
                "CJK", "中文文本测试我喜欢吃苹果".repeat(MEGABYTE / 12 / 3));
        tokenizer.encode(prose(MEGABYTE, 2), false); // warm up, with a different text (no cache hits)
        StringBuilder report = new StringBuilder(name + ":");
        for (Map.Entry<String, String> input : inputs.entrySet()) {
            String text = input.getValue();
            int bytes = ByteLevelAlphabet.utf8(text).length;
            long start = System.nanoTime();
            int[] ids = tokenizer.encode(text, false);
            double seconds = (System.nanoTime() - start) / 1e9;
            report.append(String.format(Locale.ROOT, " %s %.2f MB/s (%d ids, %.3f s);", input.getKey(),
                    bytes / 1e6 / seconds, ids.length, seconds));
            // A bound for quadratic behaviour (which took minutes per megabyte), loose enough for a loaded machine.
            assertTrue(seconds < 30, name + " " + input.getKey() + ": 1 MB took " + seconds + " s");
            if (input.getKey().equals("prose")) {
                assertEquals(text, tokenizer.decode(ids), "a lossless round trip");
            }
        }
        System.out.println(report);
    }

    /** Mixed English prose, code and a little Unicode, deterministic per seed. */
    static String prose(int length, long seed) {
        String[] words = {"Once", "upon", "a", "time,", "there", "was", "little", "girl", "named", "Lily.", "She",
            "loved", "to", "play", "outside", "in", "the", "park", "one", "day", "she", "saw", "big", "red", "ball",
            "tokenizer", "streaming", "inference", "café", "naïve", "日本語", "12345", "x = f(y);", "\n", "\n\n",
            "  ", "I'm", "don't", "we've", "(parenthesis)", "\"quoted\"", "3.14", "emoji 😀", "Привет"};
        StringBuilder sb = new StringBuilder(length + 32);
        long state = seed;
        while (sb.length() < length) {
            state = state * 6364136223846793005L + 1442695040888963407L;
            sb.append(words[(int) ((state >>> 33) % words.length)]);
            state = state * 6364136223846793005L + 1442695040888963407L;
            sb.append(((state >>> 33) % 7) == 0 ? "" : " ");
            if (((state >>> 40) % 5000) == 0) {
                sb.append(state); // a fresh number now and then, so not every piece is cached
            }
        }
        return sb.substring(0, length);
    }
}
