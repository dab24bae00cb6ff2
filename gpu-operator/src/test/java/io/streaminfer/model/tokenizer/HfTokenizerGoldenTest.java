package io.streaminfer.model.tokenizer;

import static io.streaminfer.model.tokenizer.SharedTokenizers.ints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.streaminfer.model.TextTokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** HfTokenizer against transformers.js's goldens (src/test/goldens/make-goldens.mjs) on every string. */
class HfTokenizerGoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama3-instruct", "qwen3", "mistral"})
    void encodesAndDecodesEveryGoldenStringAsTransformersJs(String name) throws IOException {
        HfTokenizer tokenizer = SharedTokenizers.load(name);
        JsonNode goldens = SharedTokenizers.goldens(name);
        List<String> failures = new ArrayList<>();
        int cases = 0;
        for (JsonNode c : goldens.get("cases")) {
            cases++;
            String text = c.get("text").asText();
            int[] ids = ints(c.get("ids"));
            int[] idsSpecial = ints(c.get("ids_special"));
            check(failures, "encode", text, Arrays.toString(ids), Arrays.toString(tokenizer.encode(text, false)));
            check(failures, "encode+special", text, Arrays.toString(idsSpecial),
                    Arrays.toString(tokenizer.encode(text, true)));
            check(failures, "decode", text, c.get("decoded").asText(), tokenizer.decode(idsSpecial));
            check(failures, "decode keeping specials", text, c.get("decoded_special").asText(),
                    tokenizer.decode(idsSpecial, false));
        }
        int decodes = 0;
        for (JsonNode d : goldens.get("random_decodes")) {
            decodes++;
            int[] ids = ints(d.get("ids"));
            check(failures, "decode of random ids", Arrays.toString(ids), d.get("decoded").asText(), tokenizer.decode(ids));
            check(failures, "decode of random ids keeping specials", Arrays.toString(ids),
                    d.get("decoded_special").asText(), tokenizer.decode(ids, false));
        }
        int checks = cases * 4 + decodes * 2;
        System.out.printf("%s: %d of %d checks as transformers.js %s (%d texts, %d random decodes)%n", name,
                checks - failures.size(), checks, goldens.get("transformers_js").asText(), cases, decodes);
        assertTrue(failures.isEmpty(), failures.size() + " differences, e.g.:\n"
                + String.join("\n", failures.subList(0, Math.min(15, failures.size()))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3-instruct", "qwen3", "mistral"})
    void streamedPiecesAddUpToTheWholeDecode(String name) throws IOException {
        HfTokenizer tokenizer = SharedTokenizers.load(name);
        List<int[]> sequences = new ArrayList<>();
        for (JsonNode c : SharedTokenizers.goldens(name).get("cases")) {
            sequences.add(ints(c.get("ids_special")));
        }
        for (JsonNode d : SharedTokenizers.goldens(name).get("random_decodes")) {
            sequences.add(ints(d.get("ids")));
        }
        for (int[] ids : sequences) {
            String whole = tokenizer.decode(ids);
            assertEquals(whole, streamed(tokenizer, new int[0], ids), "from the start: " + Arrays.toString(ids));
            for (int cut : new int[] {1, ids.length / 2, ids.length - 1}) {
                if (cut <= 0 || cut >= ids.length) {
                    continue;
                }
                int[] context = Arrays.copyOf(ids, cut);
                String after = streamed(tokenizer, context, Arrays.copyOfRange(ids, cut, ids.length));
                // What the context reads as, less what it holds back (bytes of an unfinished character):
                TextTokenizer.StreamDecoder contextStream = tokenizer.streamDecoder(new int[0]);
                StringBuilder settled = new StringBuilder();
                for (int id : context) {
                    settled.append(contextStream.next(id));
                }
                String where = "after " + cut + " of " + Arrays.toString(ids);
                assertTrue(tokenizer.decode(context).startsWith(settled.toString()), where);
                assertEquals(whole, settled + after, where);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "mistral"})
    void oneInstanceServesManyThreads(String name) throws Exception {
        HfTokenizer tokenizer = SharedTokenizers.load(name);
        List<String> texts = new ArrayList<>();
        for (JsonNode c : SharedTokenizers.goldens(name).get("cases")) {
            texts.add(c.get("text").asText());
        }
        List<String> expected = texts.stream().map(t -> Arrays.toString(tokenizer.encode(t, true))).toList();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<List<String>>> results = new ArrayList<>();
            for (int thread = 0; thread < 4; thread++) {
                results.add(pool.submit(() -> {
                    List<String> out = new ArrayList<>();
                    for (int round = 0; round < 5; round++) {
                        out.clear();
                        for (String text : texts) {
                            out.add(Arrays.toString(tokenizer.encode(text, true)));
                        }
                    }
                    return out;
                }));
            }
            for (java.util.concurrent.Future<List<String>> result : results) {
                assertEquals(expected, result.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    static String streamed(TextTokenizer tokenizer, int[] context, int[] ids) {
        TextTokenizer.StreamDecoder stream = tokenizer.streamDecoder(context);
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            out.append(stream.next(id));
        }
        return out.append(stream.finish()).toString();
    }

    private static void check(List<String> failures, String what, String input, String expected, String actual) {
        if (!expected.equals(actual)) {
            failures.add(what + " of " + escape(input) + ": expected " + escape(expected) + ", got " + escape(actual));
        }
    }

    static String escape(String s) {
        StringBuilder out = new StringBuilder("\"");
        String shown = s.length() > 120 ? s.substring(0, 120) + "..." : s;
        for (int i = 0; i < shown.length(); i++) {
            char c = shown.charAt(i);
            out.append(c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0xA0) || Character.isSurrogate(c)
                    || c == 0x2028 || c == 0x2029 || c == 0xFEFF ? String.format("\\u%04X", (int) c) : String.valueOf(c));
        }
        return out.append('"').toString();
    }
}
