package io.streaminfer.model.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.StreamSupport;

/** The GGUF files and llama.cpp goldens of src/test/resources/gguf (made by src/test/goldens/gguf/make-goldens.sh). */
final class GgufGoldens {
    private static final ObjectMapper JSON = new ObjectMapper();

    private GgufGoldens() {}

    /** A llama-greedy-ids run: prompt ids, greedy ids and each step's top1 - top2 logit margin. */
    record Greedy(int[] promptIds, int[] ids, double[] margins, String stop) {
        /** The first step whose margin is below {@code threshold}, or the run's length. */
        int firstStepWithMarginBelow(double threshold) {
            for (int i = 0; i < margins.length; i++) {
                if (margins[i] < threshold) {
                    return i;
                }
            }
            return margins.length;
        }
    }

    /** One tokenization case: the text and its ids. */
    record EncodeCase(String text, int[] ids) {}

    static Path file(String name) {
        URL url = GgufGoldens.class.getResource("/gguf/" + name);
        if (url == null) {
            throw new IllegalStateException("missing test resource /gguf/" + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(String name) throws IOException {
        return JSON.readTree(file(name).toFile());
    }

    static Greedy greedy(String name) throws IOException {
        JsonNode n = json(name);
        return new Greedy(ints(n.get("prompt_ids")), ints(n.get("gen_ids")),
                StreamSupport.stream(n.get("gen_margins").spliterator(), false).mapToDouble(JsonNode::asDouble).toArray(),
                n.get("stop").asText());
    }

    static int[] ints(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }

    /** Cases of a "hex of UTF-8 text|ids" file, under /golden or /gguf. */
    static List<EncodeCase> encodeCases(String resource) throws IOException {
        List<EncodeCase> cases = new ArrayList<>();
        try (InputStream in = GgufGoldens.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("missing test resource " + resource);
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split("\\|", -1);
                String text = new String(HexFormat.of().parseHex(parts[0]), StandardCharsets.UTF_8);
                int[] ids = parts[1].isEmpty() ? new int[0]
                        : java.util.Arrays.stream(parts[1].split(",")).mapToInt(Integer::parseInt).toArray();
                cases.add(new EncodeCase(text, ids));
            }
        }
        return cases;
    }

    /** Length of the common prefix of two id sequences. */
    static int commonPrefix(int[] a, int[] b) {
        int n = 0;
        while (n < a.length && n < b.length && a[n] == b[n]) {
            n++;
        }
        return n;
    }
}
