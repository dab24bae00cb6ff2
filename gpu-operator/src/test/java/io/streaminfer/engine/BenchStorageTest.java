package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.compute.StorageKind;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.QuantizedCheckpoint;
import io.streaminfer.model.SyntheticCheckpoint;
import io.streaminfer.model.TensorNames;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench rows name the storage a checkpoint really holds, not the --weights default. */
class BenchStorageTest {
    @Test
    void aQ4_0FileIsNamedByItsLayersThenItsQ8_0Classifier() throws Exception {
        Path file = Path.of(getClass().getResource("/gguf/stories260K.q4_0.gguf").toURI());
        try (Checkpoint c = Checkpoints.open(file)) {
            EngineBenchmark.Storage storage = EngineBenchmark.Storage.of(c);
            assertEquals(StorageKind.Q8_0, c.tensor(TensorNames.classifier(c.config())).kind(), "the file's classifier");
            assertTrue(storage.label().startsWith("q4_0+"), storage.label());
            assertTrue(storage.label().endsWith("+q8_0"), storage.label());
            long bytes = c.tensor(TensorNames.classifier(c.config())).bytes();
            for (int layer = 0; layer < c.config().numberOfLayers(); layer++) {
                bytes += c.tensor(TensorNames.query(layer)).bytes() + c.tensor(TensorNames.key(layer)).bytes()
                        + c.tensor(TensorNames.value(layer)).bytes() + c.tensor(TensorNames.attentionOutput(layer)).bytes()
                        + c.tensor(TensorNames.ffnGate(layer)).bytes() + c.tensor(TensorNames.ffnUp(layer)).bytes()
                        + c.tensor(TensorNames.ffnDown(layer)).bytes();
            }
            assertEquals(bytes, storage.bytes());
        }
    }

    @Test
    void aConvertedCheckpointIsNamedByTheKindItWasConvertedTo(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("m.bin");
        SyntheticCheckpoint.write(model, ModelConfig.llama2c(64, 128, 2, 4, 4, 256, 32, true), 5);
        try (Checkpoint c = Checkpoints.open(model)) {
            assertEquals("f32", EngineBenchmark.Storage.of(c).label());
            EngineBenchmark.Storage q8 = EngineBenchmark.Storage.of(new QuantizedCheckpoint(c, StorageKind.Q8_0));
            assertEquals("q8_0", q8.label());
            assertTrue(q8.bytes() * 3 < EngineBenchmark.Storage.of(c).bytes(), "about a quarter of fp32's bytes");
        }
    }
}
