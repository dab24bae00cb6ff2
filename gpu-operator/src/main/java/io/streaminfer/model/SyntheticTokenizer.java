package io.streaminfer.model;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a small tokenizer.bin for synthetic models: the three specials, the 256 byte tokens, the printable
 * ASCII characters and, up to the vocabulary size, a few frequent English pieces. Any text encodes (byte
 * fallback), so a synthetic model can run the whole pipeline; its texts are, of course, gibberish.
 */
public final class SyntheticTokenizer {
    private SyntheticTokenizer() {}

    private static final String[] PIECES = {" the", " a", " and", " was", " to", " he", " she", " it", " in", " of",
        "ing", "ed", " on", " day", " big", " little", " happy", " play", " time", " said"};

    public static void write(Path file, int vocabularySize) throws IOException {
        List<String> pieces = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            pieces.add(String.format("<0x%02X>", b));
        }
        for (char c = ' '; c <= '~'; c++) {
            pieces.add(String.valueOf(c));
        }
        for (String p : PIECES) {
            pieces.add(p);
        }
        if (vocabularySize < pieces.size()) {
            throw new IllegalArgumentException("a synthetic tokenizer needs at least " + pieces.size()
                    + " entries, the model has " + vocabularySize);
        }
        for (int i = pieces.size(); i < vocabularySize; i++) {
            pieces.add("<extra_" + i + ">");
        }
        int maxLength = pieces.stream().mapToInt(p -> p.getBytes(StandardCharsets.UTF_8).length).max().orElse(1);
        try (OutputStream out = Files.newOutputStream(file); DataOutputStream data = new DataOutputStream(out)) {
            ByteBuffer entry = ByteBuffer.allocate(8 + maxLength).order(ByteOrder.LITTLE_ENDIAN);
            data.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(maxLength).array());
            for (int id = 0; id < pieces.size(); id++) {
                byte[] bytes = pieces.get(id).getBytes(StandardCharsets.UTF_8);
                // Longer pieces score higher, so merges prefer them, as BPE vocabularies do.
                float score = id < 3 + 256 ? 0f : bytes.length - id * 1e-4f;
                entry.clear();
                entry.putFloat(score).putInt(bytes.length).put(bytes);
                data.write(entry.array(), 0, entry.position());
            }
        }
    }
}
