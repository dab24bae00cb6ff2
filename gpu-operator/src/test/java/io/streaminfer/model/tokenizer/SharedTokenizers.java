package io.streaminfer.model.tokenizer;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Assumptions;

/**
 * The real tokenizer files in {@code ../shared/models/tokenizers} (beside the repository). Absent, a test
 * fails under CI (env {@code CI} set) and is skipped elsewhere, naming the path it looked for.
 */
final class SharedTokenizers {
    static final String PROPERTY = "streaminfer.shared.models";
    private static final Map<String, HfTokenizer> LOADED = new ConcurrentHashMap<>(); // tests only

    private SharedTokenizers() {
    }

    static Path dir(String name) {
        String configured = System.getProperty(PROPERTY);
        // Tests run in the module directory: the repository root is "..", so shared/ is "../../shared".
        Path base = configured != null ? Path.of(configured, "tokenizers") : Path.of("../../shared/models/tokenizers");
        Path dir = base.resolve(name);
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            String message = "tokenizer files not found: " + dir.toAbsolutePath().normalize()
                    + " (the repository's ../shared/models/tokenizers/" + name + "; set -D" + PROPERTY + "=<models dir>)";
            if (System.getenv("CI") != null) {
                fail(message);
            }
            Assumptions.abort("skipped: " + message);
        }
        return dir;
    }

    /** One loaded tokenizer per name for the whole test run (loading Qwen3 takes about a second). */
    static HfTokenizer load(String name) {
        Path dir = dir(name);
        return LOADED.computeIfAbsent(name, n -> {
            try {
                return HfTokenizer.load(dir);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    static JsonNode goldens(String name) throws IOException {
        try (InputStream in = SharedTokenizers.class.getResourceAsStream("/tokenizer-goldens/" + name + ".json")) {
            if (in == null) {
                throw new IOException("missing test resource /tokenizer-goldens/" + name + ".json");
            }
            return new ObjectMapper().readTree(in);
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
