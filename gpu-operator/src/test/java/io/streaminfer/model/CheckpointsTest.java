package io.streaminfer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model path's format comes from its content; formats this release cannot read are refused in one line. */
class CheckpointsTest {
    @TempDir
    Path dir;

    @Test
    void detectsEachFormatByItsContent() throws IOException {
        Path bin = dir.resolve("model.gguf"); // the name does not matter
        SyntheticCheckpoint.write(bin, ModelConfig.llama2c(16, 24, 1, 2, 2, 32, 8, true), 1);
        assertEquals(Checkpoints.Format.LLAMA2C, Checkpoints.detect(bin));
        try (Checkpoint c = Checkpoints.open(bin)) {
            assertEquals(16, c.config().dim());
            assertTrue(c.tensorNames().containsAll(TensorNames.required(c.config())));
        }
        Path gguf = Files.write(dir.resolve("m.bin"), new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0});
        assertEquals(Checkpoints.Format.GGUF, Checkpoints.detect(gguf));
        Path hf = Files.createDirectory(dir.resolve("hf"));
        Files.writeString(hf.resolve("config.json"), "{}");
        assertEquals(Checkpoints.Format.HUGGING_FACE, Checkpoints.detect(hf));
    }

    @Test
    void refusesWhatItCannotReadNamingThePath() throws IOException {
        Path gguf = Files.write(dir.resolve("m.gguf"), new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0});
        IOException e = assertThrows(IOException.class, () -> Checkpoints.open(gguf));
        assertTrue(e.getMessage().startsWith(gguf + " is a GGUF file"), e.getMessage());
        Path empty = Files.createDirectory(dir.resolve("empty"));
        e = assertThrows(IOException.class, () -> Checkpoints.open(empty));
        assertTrue(e.getMessage().contains("without config.json"), e.getMessage());
    }
}
