package io.streaminfer.model;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Finds the real model files in ../shared/models (or {@code -Dstreaminfer.shared.models}), with one policy
 * for what a test does without them:
 * <ul>
 *   <li>a test that only needs <em>a</em> model takes {@link #stories260KOrSynthetic()}: the real files, or
 *       else a synthetic checkpoint of the same shape and a synthetic tokenizer, said once on stderr (these
 *       tests have no logging configuration);</li>
 *   <li>a test of goldens only the real model gives (run.c's tokens, the real file's header) takes
 *       {@link #require(String)}: without the file it fails when the {@code CI} environment variable is set
 *       (CI always has ../shared), and is skipped otherwise, with a message that names the missing file.</li>
 * </ul>
 * flink-job's tests follow the same policy with their own copy ({@code io.streaminfer.job.TestModels}); the
 * modules share no test classes.
 */
public final class SharedModelFiles {
    public static final String PROPERTY = "streaminfer.shared.models";
    private static final AtomicBoolean SAID_SYNTHETIC = new AtomicBoolean();

    /**
     * A checkpoint and its tokenizer.
     *
     * @param real whether they are the shared stories260K files (else synthetic, and texts are gibberish)
     */
    public record Model(Path checkpoint, Path tokenizer, boolean real) {
    }

    private SharedModelFiles() {
    }

    /** The path of a shared model file for a golden test: skipped without it, or failed under CI. */
    public static Path require(String name) {
        Optional<Path> file = find(name);
        if (file.isPresent()) {
            return file.get();
        }
        String missing = "model file " + name + " not found in " + candidates() + " (set -D" + PROPERTY + "=<dir>)";
        if (onCi()) {
            throw new AssertionError(missing + "; CI has ../shared/models, so this golden test must not skip there");
        }
        Assumptions.abort("skipped: " + missing + "; only the real model gives this test's goldens");
        throw new AssertionError("unreachable");
    }

    /** stories260K.bin and tok512.bin, or a synthetic model of that shape (vocabulary 512) and a synthetic tokenizer. */
    public static Model stories260KOrSynthetic() {
        Optional<Path> model = find("stories260K.bin");
        Optional<Path> tokenizer = find("tok512.bin");
        if (model.isPresent() && tokenizer.isPresent()) {
            return new Model(model.get(), tokenizer.get(), true);
        }
        try {
            Path dir = Path.of(System.getProperty("java.io.tmpdir"), "streaminfer-synthetic");
            Path checkpoint = SyntheticCheckpoint.writeInto(dir, SyntheticCheckpoint.parse("synthetic:stories260K,seed=1"));
            Path tok = dir.resolve("synthetic-tok512.bin");
            Path partial = Files.createTempFile(dir, "synthetic-tok512", ".partial");
            SyntheticTokenizer.write(partial, 512);
            Files.move(partial, tok, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            if (SAID_SYNTHETIC.compareAndSet(false, true)) {
                System.err.println("SharedModelFiles: stories260K.bin or tok512.bin not found in " + candidates()
                        + "; tests that need a model run on a synthetic one (" + checkpoint + ", " + tok + ")");
            }
            return new Model(checkpoint, tok, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the synthetic test model: " + e.getMessage(), e);
        }
    }

    /** Whether the tests run on CI: the {@code CI} environment variable is set (and not "false" or "0"). */
    public static boolean onCi() {
        String ci = System.getenv("CI");
        return ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false") && !ci.equals("0");
    }

    private static Optional<Path> find(String name) {
        for (Path dir : candidates()) {
            Path file = dir.resolve(name);
            if (Files.isRegularFile(file)) {
                return Optional.of(file);
            }
        }
        return Optional.empty();
    }

    private static List<Path> candidates() {
        String configured = System.getProperty(PROPERTY);
        return configured != null
                ? List.of(Path.of(configured))
                : List.of(Path.of("../shared/models"), Path.of("../../shared/models"));
    }
}
