package io.streaminfer.model;

import io.streaminfer.model.gguf.GgufCheckpoint;
import io.streaminfer.model.hf.HfCheckpoint;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a checkpoint of whatever format a path holds: a llama2.c {@code .bin}, a Hugging Face model
 * directory or a GGUF file. The one place a model path becomes a {@link Checkpoint}.
 */
public final class Checkpoints {
    private static final byte[] GGUF_MAGIC = {'G', 'G', 'U', 'F'};

    private Checkpoints() {}

    /** The formats a model path may hold. */
    public enum Format { LLAMA2C, HUGGING_FACE, GGUF }

    /** Which format {@code path} holds, from its shape and first bytes (not its name). */
    public static Format detect(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve("config.json"))) {
                return Format.HUGGING_FACE;
            }
            throw new IOException(path + " is a directory without config.json: not a Hugging Face model directory");
        }
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(path)) {
            int n = in.readNBytes(head, 0, 4);
            if (n == 4 && java.util.Arrays.equals(head, GGUF_MAGIC)) {
                return Format.GGUF;
            }
        }
        return Format.LLAMA2C;
    }

    /**
     * Opens and maps the checkpoint at {@code path}, checking that every tensor its configuration needs is
     * there.
     *
     * @throws IOException naming the file and what is wrong, or what of its format this release does not read
     */
    public static Checkpoint open(Path path) throws IOException {
        Format format = detect(path);
        Checkpoint checkpoint = switch (format) {
            case LLAMA2C -> Llama2cCheckpoint.open(path);
            case HUGGING_FACE -> HfCheckpoint.open(path);
            case GGUF -> GgufCheckpoint.open(path);
        };
        try {
            TensorNames.requirePresent(checkpoint, path.toString());
        } catch (IllegalArgumentException e) {
            checkpoint.close();
            throw new IOException(e.getMessage(), e);
        }
        return checkpoint;
    }
}
