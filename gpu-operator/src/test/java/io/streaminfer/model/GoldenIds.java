package io.streaminfer.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Reads the golden files produced with llama2.c (see src/test/resources/golden/README.md). */
public final class GoldenIds {
    private GoldenIds() {
    }

    /** {prompt ids, generated ids} from a {@code .ids} file. */
    public static int[][] load(String resource) throws IOException {
        String[] lines = text(resource).split("\n");
        int[] prompt = null;
        int[] generated = null;
        for (String line : lines) {
            String[] parts = line.trim().split(" ", 2);
            int[] ids = parts.length < 2 ? new int[0]
                    : Arrays.stream(parts[1].split(",")).mapToInt(Integer::parseInt).toArray();
            if (parts[0].equals("prompt_ids")) {
                prompt = ids;
            } else if (parts[0].equals("generated_ids")) {
                generated = ids;
            }
        }
        if (prompt == null || generated == null) {
            throw new IOException(resource + " lacks prompt_ids or generated_ids");
        }
        return new int[][] {prompt, generated};
    }

    public static String text(String resource) throws IOException {
        try (InputStream in = GoldenIds.class.getResourceAsStream("/golden/" + resource)) {
            if (in == null) {
                throw new IOException("missing test resource /golden/" + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
