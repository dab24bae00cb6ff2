package io.streaminfer.job;

import io.streaminfer.model.SyntheticCheckpoint;
import io.streaminfer.model.SyntheticTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model files of the job's tests, with gpu-operator's {@code SharedModelFiles} policy (the modules share
 * no test classes, so this is its copy for flink-job):
 * <ul>
 *   <li>a test that only needs <em>a</em> model takes {@link #stories260KOrSynthetic()}: the shared stories260K
 *       and tok512, or else a synthetic checkpoint of that shape and a synthetic tokenizer, said once in the
 *       log;</li>
 *   <li>a test of goldens only the real model gives takes {@link #requireShared(String)}: without the file it
 *       fails when the {@code CI} environment variable is set (CI always has ../shared), and is skipped
 *       otherwise, with a message that names the missing file.</li>
 * </ul>
 * Files are looked for in {@code -Dstreaminfer.shared.models} (the build sets it to the checkout's
 * ../shared/models), else in ../shared/models and ../../shared/models.
 */
public final class TestModels {
    private static final Logger LOG = LoggerFactory.getLogger(TestModels.class);
    private static final String PROPERTY = "streaminfer.shared.models";
    private static final AtomicBoolean SAID_SYNTHETIC = new AtomicBoolean();

    /**
     * A checkpoint and its tokenizer (vocabulary 512, context 512 either way).
     *
     * @param real whether they are the shared stories260K files (else synthetic, and texts are gibberish)
     */
    public record Model(Path checkpoint, Path tokenizer, boolean real) {}

    private TestModels() {}

    /** stories260K.bin and tok512.bin, or a synthetic model of that shape and a synthetic tokenizer. */
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
                LOG.warn("stories260K.bin or tok512.bin not found in {}: tests that need a model run on a synthetic "
                        + "one ({}, {}); golden tests skip (or fail under CI)", candidates(), checkpoint, tok);
            }
            return new Model(checkpoint, tok, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the synthetic test model: " + e.getMessage(), e);
        }
    }

    /** A shared model file for a test of goldens only the real model gives: skipped without it, failed under CI. */
    public static Path requireShared(String name) {
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

    /** Whether the tests run on CI: the {@code CI} environment variable is set (and not "false" or "0"). */
    public static boolean onCi() {
        String ci = System.getenv("CI");
        return ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false") && !ci.equals("0");
    }

    private static Optional<Path> find(String name) {
        for (Path dir : candidates()) {
            Path file = dir.resolve(name);
            if (Files.isRegularFile(file) || Files.isDirectory(file)) { // a model file, or a tokenizer directory
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
