package io.streaminfer.engine;

import io.streaminfer.model.SyntheticCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Turns a model argument (a checkpoint path or a {@code synthetic:} description) into a path. */
public final class ModelFiles {
    private ModelFiles() {}

    /**
     * The checkpoint for {@code model}: the path itself (a file, or a Hugging Face model directory), or a
     * synthetic checkpoint written once into
     * {@code <java.io.tmpdir>/streaminfer-synthetic} (reused while its size is right).
     *
     * @throws IllegalArgumentException when the path does not exist or the description is wrong
     */
    public static Path resolve(String model) {
        if (SyntheticCheckpoint.isDescription(model)) {
            try {
                Path dir = Path.of(System.getProperty("java.io.tmpdir"), "streaminfer-synthetic");
                return SyntheticCheckpoint.writeInto(dir, SyntheticCheckpoint.parse(model));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the synthetic model " + model + ": " + e.getMessage(), e);
            }
        }
        Path path = Path.of(model);
        if (!Files.isReadable(path) || !(Files.isRegularFile(path) || Files.isDirectory(path))) {
            throw new IllegalArgumentException("model " + model + " is not a readable file or model directory");
        }
        return path;
    }
}
