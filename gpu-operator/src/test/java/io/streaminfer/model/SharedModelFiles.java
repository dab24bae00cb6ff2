package io.streaminfer.model;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Finds the real model files in ../shared/models; tests that need them skip, saying why, when absent. */
public final class SharedModelFiles {
    public static final String PROPERTY = "streaminfer.shared.models";

    private SharedModelFiles() {
    }

    /** The path of a shared model file, or an aborted (skipped) test naming where it was looked for. */
    public static Path require(String name) {
        String configured = System.getProperty(PROPERTY);
        List<Path> candidates = configured != null
                ? List.of(Path.of(configured))
                : List.of(Path.of("../shared/models"), Path.of("../../shared/models"));
        for (Path dir : candidates) {
            Path file = dir.resolve(name);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        Assumptions.abort("skipped: model file " + name + " not found in " + candidates
                + " (set -D" + PROPERTY + "=<dir>)");
        throw new AssertionError("unreachable");
    }
}
