package io.streaminfer.model;

import io.streaminfer.model.Llama2cLayout.Section;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Model files with deterministic pseudo-random weights in llama2.c's format, for benchmarks, the demo and
 * tests of shapes no real checkpoint here has (GQA, separate classifier, vocab 32000...).
 *
 * <p>Every weight is a pure function of (seed, tensor, layer, index) through SplitMix64, so the files never
 * change between JDKs or runs. Matrices are uniform in ±1/sqrt(fan_in) and norm weights lie in 1 ± 0.1, so
 * activations stay of order one; embeddings are uniform in ±0.5.
 */
public final class SyntheticCheckpoint {

    /** Prefix of a synthetic model description, as the CLI accepts it. */
    public static final String PREFIX = "synthetic:";

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    private static final List<String> KEYS =
            List.of("dim", "hidden", "layers", "heads", "kv_heads", "vocab", "seq_len", "shared", "seed");
    private static final Map<String, ModelConfig> PRESETS = Map.of(
            "stories260K", ModelConfig.llama2c(64, 172, 5, 8, 4, 512, 512, true),
            "stories15M", ModelConfig.llama2c(288, 768, 6, 6, 6, 32000, 256, true),
            "stories42M", ModelConfig.llama2c(512, 1376, 8, 8, 8, 32000, 1024, true),
            "stories110M", ModelConfig.llama2c(768, 2048, 12, 12, 12, 32000, 1024, true));

    private SyntheticCheckpoint() {
    }

    /**
     * A parsed description: the shapes and the seed of the weights.
     *
     * @param config shapes (llama2.c defaults for epsilon, theta and rotary layout)
     * @param seed seed of the weights
     */
    public record Spec(ModelConfig config, long seed) {
        public Spec {
            if (config == null) {
                throw new IllegalArgumentException("config is required");
            }
        }

        /** A file name that identifies the spec, for caching written files. */
        public String fileName() {
            return String.format(Locale.ROOT, "synthetic-d%d-h%d-l%d-q%d-kv%d-v%d-s%d-%s-seed%d.bin",
                    config.dim(), config.hiddenDim(), config.numberOfLayers(), config.numberOfHeads(),
                    config.numberOfKeyValueHeads(), config.vocabularySize(), config.contextLength(),
                    config.tiedEmbeddings() ? "shared" : "sep", seed);
        }
    }

    /** Whether a model argument names a synthetic model rather than a file. */
    public static boolean isDescription(String model) {
        return model != null && model.startsWith(PREFIX);
    }

    /** The shapes of a description; see {@link #parse(String)}. */
    public static ModelConfig parseDescription(String description) {
        return parse(description).config();
    }

    /**
     * Parses {@code synthetic:<preset>[,key=value...]} or {@code synthetic:key=value,...}. Presets:
     * stories260K, stories15M, stories42M, stories110M. Keys: dim, hidden, layers, heads, kv_heads (default
     * heads), vocab, seq_len, shared (default true), seed (default 0). Without a preset, dim, hidden, layers,
     * heads, vocab and seq_len are required.
     *
     * @throws IllegalArgumentException naming the bad, unknown, repeated or missing key
     */
    public static Spec parse(String description) {
        if (!isDescription(description)) {
            throw new IllegalArgumentException("a synthetic model description starts with '" + PREFIX + "', got '"
                    + description + "'");
        }
        String body = description.substring(PREFIX.length()).trim();
        if (body.isEmpty()) {
            throw new IllegalArgumentException("empty synthetic model description '" + description
                    + "'; use a preset " + PRESETS.keySet() + " or keys " + KEYS);
        }
        ModelConfig preset = null;
        Map<String, String> values = new LinkedHashMap<>();
        String[] parts = body.split(",", -1);
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i].trim();
            int eq = part.indexOf('=');
            if (eq < 0) {
                if (i != 0) {
                    throw new IllegalArgumentException("'" + part + "' in '" + description
                            + "' is not key=value (only the first element may name a preset)");
                }
                preset = PRESETS.get(part);
                if (preset == null) {
                    throw new IllegalArgumentException("unknown synthetic preset '" + part + "' in '" + description
                            + "'; presets: " + PRESETS.keySet());
                }
                continue;
            }
            String key = part.substring(0, eq).trim();
            String value = part.substring(eq + 1).trim();
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown key '" + key + "' in synthetic model description '"
                        + description + "'; known keys: " + KEYS);
            }
            if (values.put(key, value) != null) {
                throw new IllegalArgumentException("key '" + key + "' appears twice in '" + description + "'");
            }
        }
        int dim = intValue(values, "dim", preset == null ? null : preset.dim(), description);
        int hidden = intValue(values, "hidden", preset == null ? null : preset.hiddenDim(), description);
        int layers = intValue(values, "layers", preset == null ? null : preset.numberOfLayers(), description);
        int heads = intValue(values, "heads", preset == null ? null : preset.numberOfHeads(), description);
        int kvHeads = intValue(values, "kv_heads",
                preset == null || values.containsKey("heads") ? heads : preset.numberOfKeyValueHeads(), description);
        int vocab = intValue(values, "vocab", preset == null ? null : preset.vocabularySize(), description);
        int seqLen = intValue(values, "seq_len", preset == null ? null : preset.contextLength(), description);
        boolean shared = booleanValue(values, "shared", preset == null || preset.tiedEmbeddings(), description);
        long seed = longValue(values, "seed", description);
        ModelConfig config;
        try {
            config = ModelConfig.llama2c(dim, hidden, layers, heads, kvHeads, vocab, seqLen, shared);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("synthetic model description '" + description + "': "
                    + e.getMessage(), e);
        }
        return new Spec(config, seed);
    }

    private static int intValue(Map<String, String> values, String key, Integer fallback, String description) {
        String text = values.get(key);
        if (text == null) {
            if (fallback == null) {
                throw new IllegalArgumentException("missing key '" + key + "' in synthetic model description '"
                        + description + "' (or name a preset: " + PRESETS.keySet() + ")");
            }
            return fallback;
        }
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("key '" + key + "' needs an integer, got '" + text + "' in '"
                    + description + "'");
        }
    }

    private static long longValue(Map<String, String> values, String key, String description) {
        String text = values.get(key);
        if (text == null) {
            return 0L;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("key '" + key + "' needs an integer, got '" + text + "' in '"
                    + description + "'");
        }
    }

    private static boolean booleanValue(Map<String, String> values, String key, boolean fallback,
                                        String description) {
        String text = values.get(key);
        if (text == null) {
            return fallback;
        }
        if (text.equalsIgnoreCase("true")) {
            return true;
        }
        if (text.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException("key '" + key + "' needs true or false, got '" + text + "' in '"
                + description + "'");
    }

    /**
     * Writes the spec's file into a directory, unless a file of that name and the right size is there
     * already, and returns its path.
     */
    public static Path writeInto(Path directory, Spec spec) throws IOException {
        Files.createDirectories(directory);
        Path file = directory.resolve(spec.fileName());
        long expected = new Llama2cLayout(spec.config()).totalBytes();
        if (Files.isRegularFile(file) && Files.size(file) == expected) {
            return file;
        }
        Path partial = directory.resolve(spec.fileName() + ".partial");
        write(partial, spec.config(), spec.seed());
        return Files.move(partial, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Writes a llama2.c checkpoint with deterministic weights (a negative vocab_size if not shared). */
    public static void write(Path file, ModelConfig config, long seed) throws IOException {
        Llama2cLayout layout = new Llama2cLayout(config);
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            buffer.putInt(config.dim()).putInt(config.hiddenDim()).putInt(config.numberOfLayers())
                    .putInt(config.numberOfHeads()).putInt(config.numberOfKeyValueHeads())
                    .putInt(layout.headerVocabularySize()).putInt(config.contextLength());
            for (Section section : Section.values()) {
                int count = section.perLayer ? config.numberOfLayers() : 1;
                long floats = layout.tensorFloats(section);
                for (int layer = 0; layer < count; layer++) {
                    for (long i = 0; i < floats; i++) {
                        if (buffer.remaining() < Float.BYTES) {
                            drain(channel, buffer);
                        }
                        buffer.putFloat(section == Section.FREQ_CIS
                                ? rotaryTable(config, i) : weight(config, seed, section, layer, i));
                    }
                }
            }
            drain(channel, buffer);
        }
    }

    private static void drain(FileChannel channel, ByteBuffer buffer) throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
    }

    /** The legacy freq_cis table: cos for all positions, then sin; run.c skips it, we write it faithfully. */
    private static float rotaryTable(ModelConfig config, long index) {
        int half = config.headDim() / 2;
        long perPart = (long) config.contextLength() * half;
        boolean imaginary = index >= perPart;
        long k = imaginary ? index - perPart : index;
        int position = (int) (k / half);
        int pair = (int) (k % half);
        double frequency = 1.0 / StrictMath.pow(config.rope().theta(), (2.0 * pair) / config.headDim());
        double angle = position * frequency;
        return (float) (imaginary ? StrictMath.sin(angle) : StrictMath.cos(angle));
    }

    /** Weight {@code index} of one tensor (one layer's slice for per-layer sections). */
    static float weight(ModelConfig config, long seed, Section section, int layer, long index) {
        long stream = mix(seed ^ mix(((long) section.ordinal() << 32) | (layer & 0xFFFFFFFFL)));
        long bits = mix(stream + (index + 1) * GOLDEN_GAMMA);
        float unit = (bits >>> 40) * 0x1.0p-24f * 2f - 1f; // uniform in [-1, 1)
        return switch (section) {
            case ATTENTION_NORM, FFN_NORM, FINAL_NORM -> 1f + 0.1f * unit;
            case EMBEDDING, CLASSIFIER -> 0.5f * unit;
            case W2 -> unit / (float) Math.sqrt(config.hiddenDim());
            case WQ, WK, WV, WO, W1, W3 -> unit / (float) Math.sqrt(config.dim());
            case FREQ_CIS -> throw new IllegalArgumentException("freq_cis is not random");
        };
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
