package io.streaminfer.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.compute.StorageKind;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.TextTokenizer;
import io.streaminfer.model.RopeConfig;
import io.streaminfer.model.TensorNames;
import io.streaminfer.model.gguf.GgufMetadata.ValueType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GGUF metadata and tensors as a checkpoint: each architecture's flags, llama2.c conversions, RoPE, refusals. */
class GgufCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void llamaMetadataBecomesItsConfigAndTensorsTheirNeutralNames() throws IOException {
        Path file = TinyGguf.model("llama", 0, false).write(dir.resolve("llama.gguf"));
        assertEquals(Checkpoints.Format.GGUF, Checkpoints.detect(file));
        try (Checkpoint c = Checkpoints.open(file)) {
            assertInstanceOf(GgufCheckpoint.class, c);
            ModelConfig m = c.config();
            assertEquals("llama", m.architecture());
            assertEquals(TinyGguf.DIM, m.dim());
            assertEquals(TinyGguf.HIDDEN, m.hiddenDim());
            assertEquals(1, m.numberOfLayers());
            assertEquals(2, m.numberOfHeads());
            assertEquals(1, m.numberOfKeyValueHeads());
            assertEquals(4, m.headDim());
            assertEquals(TinyGguf.VOCAB, m.vocabularySize());
            assertEquals(2048, m.contextLength());
            assertEquals(1e-6f, m.rmsNormEps());
            assertEquals(RopeConfig.plain(RopeConfig.Layout.ADJACENT_PAIRS, 10000f), m.rope());
            assertFalse(m.tiedEmbeddings());
            assertFalse(m.attentionBias());
            assertFalse(m.queryKeyNorm());
            assertEquals(1, m.bosTokenId());
            assertEquals(List.of(2), m.eosTokenIds());
            assertTrue(c.tensorNames().containsAll(TensorNames.required(m)));
            assertEquals(TinyGguf.VOCAB, c.tensor(TensorNames.OUTPUT).rows(), "rows are ne[1]");
            assertEquals(TinyGguf.DIM, c.tensor(TensorNames.OUTPUT).cols(), "cols are ne[0]");
            assertEquals(TinyGguf.HIDDEN, c.tensor(TensorNames.ffnDown(0)).cols());
            assertEquals(StorageKind.F32, c.tensor(TensorNames.query(0)).kind());
        }
    }

    @Test
    void qwen2HasBiasesAndRotateHalfAndQwen3HasQueryKeyNormsAndItsOwnHeadDim() throws IOException {
        Path qwen2 = TinyGguf.model("qwen2", 0, true).write(dir.resolve("qwen2.gguf"));
        try (Checkpoint c = Checkpoints.open(qwen2)) {
            ModelConfig m = c.config();
            assertTrue(m.attentionBias());
            assertTrue(m.tiedEmbeddings(), "no output tensor: the classifier is the embedding");
            assertEquals(RopeConfig.plain(RopeConfig.Layout.ROTATE_HALF, 1_000_000f), m.rope());
            assertEquals(TinyGguf.DIM, c.tensor(TensorNames.queryBias(0)).cols());
        }
        Path qwen3 = TinyGguf.model("qwen3", 8, true)
                .u32("tokenizer.ggml.eot_token_id", 14).u32("tokenizer.ggml.eom_token_id", 2)
                .write(dir.resolve("qwen3.gguf"));
        try (Checkpoint c = Checkpoints.open(qwen3)) {
            ModelConfig m = c.config();
            assertTrue(m.queryKeyNorm());
            assertFalse(m.attentionBias());
            assertEquals(8, m.headDim());
            assertEquals(16, m.queryDim(), "2 heads of 8 are wider than dim 8");
            assertEquals(RopeConfig.Layout.ROTATE_HALF, m.rope().layout());
            assertEquals(List.of(2, 14), m.eosTokenIds(), "eos, then eot; eom repeats eos");
        }
    }

    @Test
    void aLlama2cConversionIsNotCappedAtTheConvertersContextOf128() throws IOException {
        GgufWriter converted = TinyGguf.model("llama", 0, false).string("general.name", "llama")
                .u32("llama.context_length", 128).u32("tokenizer.ggml.seperator_token_id", 0xFFFFFFFFL)
                .u32("tokenizer.ggml.padding_token_id", 0xFFFFFFFFL);
        Path file = converted.write(dir.resolve("converted.gguf"));
        try (GgufCheckpoint c = GgufCheckpoint.open(file)) {
            assertTrue(GgufConfig.isLlama2cConversion(c.metadata()));
            assertEquals(GgufConfig.LLAMA2C_CONVERTED_CONTEXT, c.config().contextLength());
            assertEquals(List.of(2, 1), c.config().eosTokenIds(), "run.c stops on BOS too");
        }
        try (GgufCheckpoint c = GgufCheckpoint.open(file, 300)) {
            assertEquals(300, c.config().contextLength(), "an explicit context length wins");
        }
        // A file that merely says 128, without the converter's signature, keeps its 128.
        Path real = TinyGguf.model("llama", 0, false).u32("llama.context_length", 128).write(dir.resolve("real.gguf"));
        try (GgufCheckpoint c = GgufCheckpoint.open(real)) {
            assertFalse(GgufConfig.isLlama2cConversion(c.metadata()));
            assertEquals(128, c.config().contextLength());
            assertEquals(List.of(2), c.config().eosTokenIds());
        }
    }

    @Test
    void llama3RopeFreqsBecomeTheLlama3ScalingThatReproducesThem() throws IOException {
        float theta = 500000f;
        int headDim = 64;
        float[] standard = llama3Factors(theta, headDim, 32, 1, 4, 8192);
        Path file = TinyGguf.model("llama", headDim, false).f32("llama.rope.freq_base", theta)
                .f32Tensor("rope_freqs.weight", standard, headDim / 2).write(dir.resolve("llama31.gguf"));
        try (GgufCheckpoint c = GgufCheckpoint.open(file)) {
            assertEquals(RopeConfig.Scaling.llama3(32f, 1f, 4f, 8192), c.config().rope().scaling());
        }
        // Other band edges, without the original context in the metadata: solved from the band's factors.
        float[] custom = llama3Factors(theta, headDim, 8, 2, 8, 4096);
        RopeConfig.Scaling fitted = RopeFrequencyFactors.toScaling(custom, theta, headDim, 8192);
        assertEquals(RopeConfig.Scaling.Type.LLAMA3, fitted.type());
        RopeConfig.Scaling truth = RopeConfig.Scaling.llama3(8f, 2f, 8f, 4096);
        for (int i = 0; i < headDim / 2; i++) {
            double frequency = 1.0 / Math.pow(theta, 2.0 * i / headDim);
            assertEquals(truth.apply(frequency), fitted.apply(frequency), 1e-4 * truth.apply(frequency), "pair " + i);
        }
        float[] ones = new float[32];
        java.util.Arrays.fill(ones, 1f);
        assertEquals(RopeConfig.Scaling.NONE, RopeFrequencyFactors.toScaling(ones, theta, headDim, 8192));
        float[] odd = ones.clone();
        for (int i = 0; i < odd.length; i += 2) {
            odd[i] = 3f;
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RopeFrequencyFactors.toScaling(odd, theta, headDim, 8192));
        assertTrue(e.getMessage().contains("rope_freqs tensor follows no llama3 rope scaling"), e.getMessage());
    }

    /** llama.cpp's converter's divisors for Llama 3's rule (frequencies in float32, the rule in double). */
    static float[] llama3Factors(float theta, int headDim, double factor, double low, double high, int original) {
        float[] out = new float[headDim / 2];
        for (int i = 0; i < out.length; i++) {
            float frequency = (float) (1.0 / Math.pow(theta, (float) (2 * i) / headDim));
            double wavelength = 2 * Math.PI / frequency;
            if (wavelength < original / high) {
                out[i] = 1f;
            } else if (wavelength > original / low) {
                out[i] = (float) factor;
            } else {
                double smooth = (original / wavelength - low) / (high - low);
                out[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }

    @Test
    void unsupportedArchitecturesTypesAndShapesAreRefusedByNameBeforeLoading() throws IOException {
        Path gemma = TinyGguf.model("gemma", 0, false).write(dir.resolve("gemma.gguf"));
        IOException e = assertThrows(IOException.class, () -> Checkpoints.open(gemma));
        assertEquals(gemma + ": architecture gemma is not supported; supported: [llama, qwen2, qwen3]", e.getMessage());

        Path q5k = TinyGguf.model("llama", 0, false).tensor("blk.0.extra.weight", 13, new byte[176], 256)
                .write(dir.resolve("q5k.gguf"));
        e = assertThrows(IOException.class, () -> Checkpoints.open(q5k));
        assertTrue(e.getMessage().contains("tensor blk.0.extra.weight is stored as Q5_K, which this release cannot read"),
                e.getMessage());

        Path partial = TinyGguf.model("llama", 0, false).u32("llama.rope.dimension_count", 2).write(dir.resolve("p.gguf"));
        e = assertThrows(IOException.class, () -> Checkpoints.open(partial));
        assertTrue(e.getMessage().contains("rope.dimension_count 2 rotates part of a head of 4"), e.getMessage());

        Path experts = TinyGguf.model("llama", 0, false).f32Tensor("blk.0.ffn_gate_exps.weight", new float[16], 2, 2, 4)
                .write(dir.resolve("moe.gguf"));
        e = assertThrows(IOException.class, () -> Checkpoints.open(experts));
        assertTrue(e.getMessage().contains("only vectors and matrices are read"), e.getMessage());

        Path noEps = TinyGguf.model("llama", 0, false).write(dir.resolve("ok.gguf"));
        byte[] bytes = java.nio.file.Files.readAllBytes(noEps);
        String key = "llama.attention.layer_norm_rms_epsilon";
        int at = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf(key);
        bytes[at + key.length() - 1] = 'X'; // rename the key
        Path renamed = java.nio.file.Files.write(dir.resolve("noeps.gguf"), bytes);
        e = assertThrows(IOException.class, () -> Checkpoints.open(renamed));
        assertTrue(e.getMessage().contains("metadata " + key + " is missing"), e.getMessage());
    }

    @Test
    void halfBfloatAndBlockTensorsAreReadInPlace() throws IOException {
        byte[] f16 = {0x00, 0x3C, 0x00, (byte) 0xC0};             // 1.0, -2.0
        byte[] bf16 = {(byte) 0x80, 0x3F, 0x40, 0x40};            // 1.0, 3.0
        byte[] q8 = new byte[34];                                  // d = 0.5, q[i] = i - 16
        q8[1] = 0x38;
        for (int i = 0; i < 32; i++) {
            q8[2 + i] = (byte) (i - 16);
        }
        Path file = TinyGguf.model("llama", 0, false).tensor("f16.weight", 1, f16, 2).tensor("bf16.weight", 30, bf16, 2)
                .tensor("q8.weight", 8, q8, 32).write(dir.resolve("kinds.gguf"));
        try (GgufCheckpoint c = GgufCheckpoint.open(file)) {
            assertEquals(StorageKind.F16, c.tensor("f16").kind());
            assertEquals(4, c.tensor("f16").bytes());
            assertArrayEquals(new float[] {1f, -2f}, c.tensor("f16").toFloats());
            assertEquals(StorageKind.BF16, c.tensor("bf16").kind());
            assertArrayEquals(new float[] {1f, 3f}, c.tensor("bf16").toFloats());
            assertEquals(StorageKind.Q8_0, c.tensor("q8").kind());
            assertEquals(34, c.tensor("q8").bytes(), "34 bytes per 32 weights, in place");
            assertEquals(-8f, c.tensor("q8").toFloats()[0]);
            assertEquals(7.5f, c.tensor("q8").toFloats()[31]);
        }
    }

    @Test
    void aGpt2VocabularyTokenizesByItsPreTokenizerAndRefusesAnUnknownOne() throws IOException {
        GgufWriter gpt2 = TinyGguf.model("qwen2", 0, true).string("tokenizer.ggml.model", "gpt2")
                .array("tokenizer.ggml.merges", ValueType.STRING, List.of("a b"));
        Path missing = gpt2.write(dir.resolve("no-pre.gguf"));
        try (GgufCheckpoint c = (GgufCheckpoint) Checkpoints.open(missing)) {
            assertEquals("qwen2", c.config().architecture(), "the weights load regardless");
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, c::tokenizer);
            assertTrue(e.getMessage().startsWith(missing + ": tokenizer.ggml.pre is missing"), e.getMessage());
        }
        Path unknown = gpt2.string("tokenizer.ggml.pre", "falcon").write(dir.resolve("falcon.gguf"));
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> GgufVocabulary.read(unknown));
        assertTrue(e.getMessage().contains("tokenizer.ggml.pre falcon is not supported"), e.getMessage());
        Path qwen = gpt2.string("tokenizer.ggml.pre", "qwen2").write(dir.resolve("qwen.gguf"));
        try (GgufCheckpoint c = (GgufCheckpoint) Checkpoints.open(qwen)) {
            assertArrayEquals(new int[] {7, 6, 14}, c.tokenizer().encode("abc<|eot|>", true),
                    "merged by rank, a CONTROL token matched in the text, no BOS for qwen2");
            assertArrayEquals(new int[] {2}, c.tokenizer().eosTokenIds());
        }
        // llama.cpp makes "</s>" CONTROL by its text even where token_type says NORMAL (Qwen2's vocabulary)
        Path normal = gpt2.array("tokenizer.ggml.token_type", ValueType.INT32, java.util.Collections.nCopies(
                TinyGguf.VOCAB, 1)).u32("tokenizer.ggml.eos_token_id", 15).write(dir.resolve("normal.gguf"));
        TextTokenizer t = GgufVocabulary.read(normal);
        assertArrayEquals(new int[] {7, 2}, t.encode("ab</s>", true));
        assertArrayEquals(new int[] {15, 2}, t.eosTokenIds(), "EOS, then llama.cpp's end-of-generation texts");
        assertEquals("ab", t.decode(new int[] {7, 2}));
    }
}
