package io.streaminfer.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.compute.StorageKind;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.GoldenIds;
import io.streaminfer.model.ShardRunner;
import io.streaminfer.model.TensorNames;
import io.streaminfer.model.gguf.GgufGoldens.Greedy;
import io.streaminfer.model.hf.HfModelWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same weights in Hugging Face format (config.json + safetensors, rotate-half q/k) give the oracles'
 * greedy tokens: Qwen2 and Qwen3 llama.cpp's (the GGUF goldens), Mistral (Llama math) run.c's.
 */
class HuggingFaceFormatGreedyTest {
    private static final double CLOSE_CALL = 0.003;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "tiny-{0} as a Hugging Face directory at TP={1} agrees with llama.cpp")
    @CsvSource({"qwen2, 1", "qwen2, 2", "qwen3, 1", "qwen3, 2"})
    void qwenDirectoriesAgreeWithLlamaCpp(String arch, int tp) throws Exception {
        Greedy golden = GgufGoldens.greedy("tiny-" + arch + ".f16.greedy.json");
        Path hf = dir.resolve(arch);
        HfModelWriter.write(GgufGoldens.file("tiny-" + arch + ".f16.gguf"), hf, "F16", 1);
        try (Checkpoint checkpoint = Checkpoints.open(hf)) {
            assertEquals(arch, checkpoint.config().architecture());
            assertEquals(StorageKind.F16, checkpoint.tensor(TensorNames.query(0)).kind());
            int[] prompt = golden.promptIds();
            int[] ours = ShardRunner.greedy(checkpoint, tp, "vector", prompt, prompt.length + 119, 2);
            int same = GgufGoldens.commonPrefix(ours, golden.ids());
            assertTrue(same == 120 || same >= golden.firstStepWithMarginBelow(CLOSE_CALL),
                    arch + ": " + same + " tokens agree with llama.cpp");
        }
    }

    @ParameterizedTest(name = "stories260K as a Mistral directory at TP={0} gives run.c's tokens")
    @ValueSource(ints = {1, 2})
    void mistralDirectoryGivesRunCsTokens(int tp) throws Exception {
        int[][] golden = GoldenIds.load("stories260K_once_upon_a_time_t0_n256.ids");
        Path hf = dir.resolve("mistral");
        HfModelWriter.write(GgufGoldens.file("stories260K.f32.gguf"), hf, "F32", 3, "MistralForCausalLM");
        try (Checkpoint checkpoint = Checkpoints.open(hf)) {
            assertEquals("mistral", checkpoint.config().architecture());
            assertArrayEquals(golden[1], ShardRunner.greedy(checkpoint, tp, "vector", golden[0], 256, 1, 2));
        }
    }
}
