package io.streaminfer.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.job.Main;
import io.streaminfer.job.TestModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run --input}: it refuses an output that already holds results, and always ends with its account. */
class OfflineRunCliTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(Path input, Path output) {
        TestModels.Model model = TestModels.stories260KOrSynthetic();
        picocli.CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        return cl.execute("run", "--model", model.checkpoint().toString(), "--tokenizer", model.tokenizer().toString(),
                "--input", input.toString(), "--output", output.toString(), "--parallelism", "1");
    }

    @Test
    void anOutputThatHoldsFilesIsRefusedAndAnEmptyInputStillGetsASummary() throws Exception {
        Path input = Files.write(dir.resolve("empty.jsonl"), new byte[0]);
        Path used = Files.createDirectories(dir.resolve("used/completions"));
        Files.writeString(used.resolve("completions-0.jsonl"), "{}\n");

        assertEquals(Cli.EXIT_USAGE, run(input, dir.resolve("used")));
        assertTrue(err.toString().contains("--output " + dir.resolve("used") + " is not empty"), err.toString());

        assertEquals(Cli.EXIT_OK, run(input, dir.resolve("fresh")), err.toString());
        assertTrue(out.toString().contains("0 lines read from " + input + ": 0 completions, 0 errors, 0 dead letters,"
                + " 0 blank lines skipped"), out.toString());
        assertTrue(out.toString().contains("completions:  none"), out.toString());

        // A directory with nothing to read (a dot-file, a subdirectory) runs and counts nothing, as it reads nothing.
        Path emptyDir = Files.createDirectories(dir.resolve("in/nested"));
        Files.writeString(emptyDir.resolve("skipped.jsonl"), "{\"id\":\"n\",\"prompt\":\"a\"}\n");
        Files.writeString(dir.resolve("in/.hidden.jsonl"), "{\"id\":\"h\",\"prompt\":\"a\"}\n");
        assertEquals(Cli.EXIT_OK, run(dir.resolve("in"), dir.resolve("fresh-dir")), err.toString());
        assertTrue(out.toString().contains("0 lines read from " + dir.resolve("in") + ": 0 completions"), out.toString());
    }
}
