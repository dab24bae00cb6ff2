package io.streaminfer.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Llama2cCheckpointTest {

    @TempDir
    Path tmp;

    @Test
    void readsTheRealStories260KHeaderAndTensors() throws IOException {
        Path file = SharedModelFiles.require("stories260K.bin");
        try (Llama2cCheckpoint checkpoint = Llama2cCheckpoint.open(file)) {
            ModelConfig c = checkpoint.config();
            assertEquals(64, c.dim());
            assertEquals(172, c.hiddenDim());
            assertEquals(5, c.numberOfLayers());
            assertEquals(8, c.numberOfHeads());
            assertEquals(4, c.numberOfKeyValueHeads());
            assertEquals(512, c.vocabularySize());
            assertEquals(512, c.contextLength());
            assertTrue(c.tiedEmbeddings());
            assertEquals(1e-5f, c.rmsNormEps());
            assertEquals(10000f, c.rope().theta());
            assertEquals(io.streaminfer.model.RopeConfig.Layout.ADJACENT_PAIRS, c.rope().layout());

            // Offsets worked out by hand from run.c's order: embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3.
            long floatsBeforeFinalNorm = 512L * 64 + 5 * 64 + 5 * 64 * 64 + 2 * 5 * 32 * 64 + 5 * 64 * 64
                    + 5 * 64 + 3 * 5 * 172 * 64;
            assertTensorAt(file, 28 + 4 * floatsBeforeFinalNorm, floats(checkpoint, TensorNames.OUTPUT_NORM), 64);
            long floatsBeforeWkLayer3 = 512L * 64 + 5 * 64 + 5 * 64 * 64 + 3 * 32 * 64;
            assertTensorAt(file, 28 + 4 * floatsBeforeWkLayer3, floats(checkpoint, TensorNames.key(3)), 32 * 64);
            long floatsBeforeW2Layer4 = 512L * 64 + 5 * 64 + 5 * 64 * 64 + 2 * 5 * 32 * 64 + 5 * 64 * 64
                    + 5 * 64 + 5 * 172 * 64 + 4 * 64 * 172;
            assertTensorAt(file, 28 + 4 * floatsBeforeW2Layer4, floats(checkpoint, TensorNames.ffnDown(4)), 64 * 172);
            assertTensorAt(file, 28, floats(checkpoint, TensorNames.classifier(checkpoint.config())), 512 * 64);
        }
    }

    @Test
    void syntheticGqaSeparateClassifierManyLayersVocab32000RoundTrips() throws IOException {
        ModelConfig config = ModelConfig.llama2c(32, 48, 3, 4, 2, 32000, 16, false);
        Path file = tmp.resolve("gqa.bin");
        SyntheticCheckpoint.write(file, config, 42);

        long perLayer = 2L * 32 + 2L * 32 * 32 + 2L * 16 * 32 + 3L * 48 * 32;
        long floats = 32000L * 32 + 3 * perLayer + 32 + 16L * 8 + 32000L * 32;
        assertEquals(28 + 4 * floats, Files.size(file));
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(file), 0, 28).order(ByteOrder.LITTLE_ENDIAN);
        int[] fields = new int[7];
        for (int i = 0; i < 7; i++) {
            fields[i] = header.getInt();
        }
        assertEquals(-32000, fields[5], "a separate classifier is flagged by a negative vocab_size");

        try (Llama2cCheckpoint checkpoint = Llama2cCheckpoint.open(file)) {
            assertEquals(config, checkpoint.config());
            assertGenerated(config, 42, Llama2cLayout.Section.EMBEDDING, 0, floats(checkpoint, TensorNames.TOKEN_EMBEDDING), 32000 * 32);
            assertGenerated(config, 42, Llama2cLayout.Section.CLASSIFIER, 0, floats(checkpoint, TensorNames.classifier(checkpoint.config())), 32000 * 32);
            assertGenerated(config, 42, Llama2cLayout.Section.FINAL_NORM, 0, floats(checkpoint, TensorNames.OUTPUT_NORM), 32);
            for (int layer = 0; layer < 3; layer++) {
                assertGenerated(config, 42, Llama2cLayout.Section.ATTENTION_NORM, layer, floats(checkpoint, TensorNames.attentionNorm(layer)), 32);
                assertGenerated(config, 42, Llama2cLayout.Section.WQ, layer, floats(checkpoint, TensorNames.query(layer)), 32 * 32);
                assertGenerated(config, 42, Llama2cLayout.Section.WK, layer, floats(checkpoint, TensorNames.key(layer)), 16 * 32);
                assertGenerated(config, 42, Llama2cLayout.Section.WV, layer, floats(checkpoint, TensorNames.value(layer)), 16 * 32);
                assertGenerated(config, 42, Llama2cLayout.Section.WO, layer, floats(checkpoint, TensorNames.attentionOutput(layer)), 32 * 32);
                assertGenerated(config, 42, Llama2cLayout.Section.FFN_NORM, layer, floats(checkpoint, TensorNames.ffnNorm(layer)), 32);
                assertGenerated(config, 42, Llama2cLayout.Section.W1, layer, floats(checkpoint, TensorNames.ffnGate(layer)), 48 * 32);
                assertGenerated(config, 42, Llama2cLayout.Section.W2, layer, floats(checkpoint, TensorNames.ffnDown(layer)), 32 * 48);
                assertGenerated(config, 42, Llama2cLayout.Section.W3, layer, floats(checkpoint, TensorNames.ffnUp(layer)), 48 * 32);
            }
            // Independent offset arithmetic: the classifier is the last vocab*dim floats of the file.
            assertTensorAt(file, Files.size(file) - 4L * 32000 * 32, floats(checkpoint, TensorNames.classifier(checkpoint.config())), 32000 * 32);
            // wv of layer 2, counted by hand.
            long beforeWv2 = 32000L * 32 + 3 * 32 + 3 * 32 * 32 + 3 * 16 * 32 + 2 * 16 * 32;
            assertTensorAt(file, 28 + 4 * beforeWv2, floats(checkpoint, TensorNames.value(2)), 16 * 32);
            assertNotEquals(floats(checkpoint, TensorNames.TOKEN_EMBEDDING), floats(checkpoint, TensorNames.classifier(checkpoint.config())));
        }
    }

    @Test
    void viewsAreFreshReadOnlyAndIndependent() throws IOException {
        ModelConfig config = ModelConfig.llama2c(16, 24, 2, 2, 1, 40, 8, true);
        Path file = tmp.resolve("small.bin");
        SyntheticCheckpoint.write(file, config, 1);
        try (Llama2cCheckpoint checkpoint = Llama2cCheckpoint.open(file)) {
            FloatBuffer a = floats(checkpoint, TensorNames.query(1));
            a.get(new float[5]);
            FloatBuffer b = floats(checkpoint, TensorNames.query(1));
            assertEquals(0, b.position());
            assertEquals(16 * 16, b.limit());
            assertTrue(b.isReadOnly());
            assertEquals(floats(checkpoint, TensorNames.TOKEN_EMBEDDING), floats(checkpoint, TensorNames.classifier(checkpoint.config())), "shared classifier is the embedding");
            assertThrows(IllegalArgumentException.class, () -> checkpoint.tensor(TensorNames.ffnGate(2)));
            checkpoint.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class,
                    () -> checkpoint.tensor(TensorNames.OUTPUT_NORM));
            assertTrue(closed.getMessage().contains("closed"));
        }
    }

    /** A small synthetic llama2.c checkpoint written to {@code name} in the test's folder. */
    private Path smallCheckpoint(String name) throws IOException {
        Path file = tmp.resolve(name);
        SyntheticCheckpoint.write(file, ModelConfig.llama2c(16, 24, 2, 2, 1, 40, 8, true), 1);
        return file;
    }

    @Test
    void truncatedFileNamesExpectedAndActualSize() throws IOException {
        Path file = smallCheckpoint("truncated.bin");
        long expected = Files.size(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(expected - 4);
        }
        IOException e = assertThrows(IOException.class, () -> Llama2cCheckpoint.open(file));
        assertTrue(e.getMessage().contains("expected " + expected + " bytes"), e.getMessage());
        assertTrue(e.getMessage().contains((expected - 4) + " bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void oversizedFileNamesExpectedAndActualSize() throws IOException {
        Path file = smallCheckpoint("oversized.bin");
        long expected = Files.size(file);
        Files.write(file, new byte[12], StandardOpenOption.APPEND);
        IOException e = assertThrows(IOException.class, () -> Llama2cCheckpoint.open(file));
        assertTrue(e.getMessage().contains("expected " + expected + " bytes"), e.getMessage());
        assertTrue(e.getMessage().contains((expected + 12) + " bytes"), e.getMessage());
    }

    @Test
    void wrongClassifierFlagIsPointedOut() throws IOException {
        ModelConfig separate = ModelConfig.llama2c(16, 24, 2, 2, 1, 40, 8, false);
        Path file = tmp.resolve("flag.bin");
        SyntheticCheckpoint.write(file, separate, 1);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(20);
            raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(40).array()); // claim shared
        }
        IOException e = assertThrows(IOException.class, () -> Llama2cCheckpoint.open(file));
        long sharedSize = Files.size(file) - 4L * 40 * 16;
        assertTrue(e.getMessage().contains("expected " + sharedSize + " bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("sign of vocab_size"), e.getMessage());
    }

    @Test
    void shortOrInvalidHeadersAreRefused() throws IOException {
        Path tiny = tmp.resolve("tiny.bin");
        Files.write(tiny, new byte[10]);
        IOException shortHeader = assertThrows(IOException.class, () -> Llama2cCheckpoint.open(tiny));
        assertTrue(shortHeader.getMessage().contains("28 bytes"), shortHeader.getMessage());
        assertTrue(shortHeader.getMessage().contains("10 bytes"), shortHeader.getMessage());

        Path zeroDim = tmp.resolve("zero.bin");
        ByteBuffer header = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(0).putInt(24).putInt(2).putInt(2).putInt(1).putInt(40).putInt(8);
        Files.write(zeroDim, header.array());
        IOException bad = assertThrows(IOException.class, () -> Llama2cCheckpoint.open(zeroDim));
        assertTrue(bad.getMessage().contains("dim must be > 0"), bad.getMessage());

        Path zeroVocab = tmp.resolve("zerovocab.bin");
        header.clear();
        header.putInt(16).putInt(24).putInt(2).putInt(2).putInt(1).putInt(0).putInt(8);
        Files.write(zeroVocab, header.array());
        IOException vocab = assertThrows(IOException.class, () -> Llama2cCheckpoint.open(zeroVocab));
        assertTrue(vocab.getMessage().contains("vocab_size"), vocab.getMessage());
    }

    @Test
    void syntheticFilesAreDeterministicPerSeedAndWeightsAreScaled() throws IOException {
        ModelConfig config = ModelConfig.llama2c(32, 48, 2, 4, 4, 100, 8, true);
        Path a = tmp.resolve("a.bin");
        Path b = tmp.resolve("b.bin");
        Path c = tmp.resolve("c.bin");
        SyntheticCheckpoint.write(a, config, 7);
        SyntheticCheckpoint.write(b, config, 7);
        SyntheticCheckpoint.write(c, config, 8);
        assertEquals(-1L, Files.mismatch(a, b));
        assertNotEquals(-1L, Files.mismatch(a, c));
        try (Llama2cCheckpoint checkpoint = Llama2cCheckpoint.open(a)) {
            float bound = (float) (1 / Math.sqrt(32));
            assertWithin(floats(checkpoint, TensorNames.query(0)), -bound, bound);
            assertWithin(floats(checkpoint, TensorNames.ffnDown(1)), (float) (-1 / Math.sqrt(48)), (float) (1 / Math.sqrt(48)));
            assertWithin(floats(checkpoint, TensorNames.attentionNorm(1)), 0.9f, 1.1f);
            assertNotEquals(floats(checkpoint, TensorNames.query(0)), floats(checkpoint, TensorNames.query(1)), "layers get different weights");
            assertNotEquals(floats(checkpoint, TensorNames.key(0)), floats(checkpoint, TensorNames.value(0)), "tensors get different weights");
        }
    }

    @Test
    void writeIntoReusesAnExistingFile() throws IOException {
        SyntheticCheckpoint.Spec spec = SyntheticCheckpoint.parse("synthetic:stories260K,seed=3");
        Path first = SyntheticCheckpoint.writeInto(tmp, spec);
        long modified = Files.getLastModifiedTime(first).toMillis();
        Path second = SyntheticCheckpoint.writeInto(tmp, spec);
        assertEquals(first, second);
        assertEquals(modified, Files.getLastModifiedTime(second).toMillis());
        try (Llama2cCheckpoint checkpoint = Llama2cCheckpoint.open(first)) {
            assertEquals(spec.config(), checkpoint.config());
        }
    }

    @Test
    void mapsFilesLargerThanTwoGigabytes() throws IOException {
        // TinyLlama-1.1B shape with a separate classifier, about 4.4 GB: a sparse file, zeros but two markers.
        ModelConfig config = ModelConfig.llama2c(2048, 5632, 22, 32, 4, 32000, 2048, false);
        long floatsBeforeFinalNorm = 32000L * 2048 + 22L * (2 * 2048 + 2 * 2048 * 2048 + 2 * 256 * 2048
                + 3 * 5632 * 2048);
        long finalNormOffset = 28 + 4 * floatsBeforeFinalNorm;
        long classifierOffset = finalNormOffset + 4 * (2048 + 2048L * 64);
        long size = classifierOffset + 4L * 32000 * 2048;
        assertTrue(size > 4L << 30);
        Path file = tmp.resolve("big.bin");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer header = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt(2048).putInt(5632).putInt(22).putInt(32).putInt(4).putInt(-32000).putInt(2048);
            raf.write(header.array());
            raf.setLength(size);
            raf.seek(finalNormOffset + 4 * 5);
            raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).array());
            raf.seek(size - 4);
            raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(-2.25f).array());
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("skipped: cannot create a sparse " + size + "-byte file: " + e);
        }
        try (Llama2cCheckpoint checkpoint = Llama2cCheckpoint.open(file)) {
            assertEquals(config, checkpoint.config());
            assertEquals(1.5f, floats(checkpoint, TensorNames.OUTPUT_NORM).get(5));
            FloatBuffer classifier = floats(checkpoint, TensorNames.classifier(checkpoint.config()));
            assertEquals(32000 * 2048, classifier.limit());
            assertEquals(-2.25f, classifier.get(classifier.limit() - 1));
            assertEquals(0f, floats(checkpoint, TensorNames.ffnUp(21)).get(5632 * 2048 - 1));
        }
    }

    private static void assertGenerated(ModelConfig config, long seed, Llama2cLayout.Section section, int layer,
                                        FloatBuffer view, int length) {
        assertEquals(length, view.remaining(), section + " length");
        for (int i = 0; i < length; i++) {
            float expected = SyntheticCheckpoint.weight(config, seed, section, layer, i);
            if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(view.get(i))) {
                throw new AssertionError(section + " layer " + layer + " index " + i + ": expected " + expected
                        + " got " + view.get(i));
            }
        }
    }

    /** Reads floats straight from the file at a byte offset and compares them with a view. */
    private static void assertTensorAt(Path file, long byteOffset, FloatBuffer view, int length) throws IOException {
        assertEquals(length, view.remaining());
        ByteBuffer raw = ByteBuffer.allocate(length * 4).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (raw.hasRemaining()) {
                if (channel.read(raw, byteOffset + raw.position()) < 0) {
                    throw new AssertionError("file ends before offset " + (byteOffset + raw.position()));
                }
            }
        }
        raw.flip();
        FloatBuffer expected = raw.asFloatBuffer();
        assertEquals(expected, view, "tensor at byte offset " + byteOffset);
    }

    private static void assertWithin(FloatBuffer values, float low, float high) {
        boolean sawNegative = false;
        while (values.hasRemaining()) {
            float v = values.get();
            assertTrue(v >= low && v <= high, v + " outside [" + low + ", " + high + "]");
            sawNegative |= v < (low + high) / 2;
        }
        assertTrue(sawNegative, "values spread over the range");
        assertFalse(Float.isNaN(low));
    }

    /** A tensor's floats, in place. */
    private static FloatBuffer floats(Checkpoint checkpoint, String name) {
        return checkpoint.tensor(name).floats();
    }
}
