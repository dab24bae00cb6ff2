package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.SharedModelFiles;
import io.streaminfer.model.SyntheticCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Token identity across TP degrees, batch invariance and resume, on real replicas (worker group, comm,
 * vector kernels). Logprobs of every generated token are compared bitwise: they are a function of the
 * whole logits row, so equal logprobs at every step mean the logits agree to the bit.
 */
class TensorParallelReplicaTest {
    private static final java.time.Duration TIMEOUT = java.time.Duration.ofMinutes(2);

    @TempDir
    static Path dir;
    static Path gqa;
    static Path bigVocab;

    @BeforeAll
    static void writeModels() throws Exception {
        // GQA (8 query heads over 2 KV heads), shared classifier
        gqa = dir.resolve("gqa.bin");
        SyntheticCheckpoint.write(gqa, ModelConfig.llama2c(64, 128, 2, 8, 2, 512, 64, true), 11);
        // separate classifier, the 32,000-token vocabulary, no GQA
        bigVocab = dir.resolve("vocab32k.bin");
        SyntheticCheckpoint.write(bigVocab, ModelConfig.llama2c(32, 64, 2, 4, 4, 32000, 48, false), 12);
    }

    static ReplicaConfig config(Path model, String tokenizer, int tp) {
        return ReplicaConfig.defaults(model.toString(), tokenizer, tp).withBatch(8, 64)
                .withCollectiveTimeout(java.time.Duration.ofSeconds(20));
    }

    private static Map<String, GenerationResult> generate(Path model, int tp, List<GenerationRequest> requests)
            throws Exception {
        try (BlockingReplica runner = new BlockingReplica(config(model, null, tp), TIMEOUT)) {
            return runner.run(requests);
        }
    }

    /**
     * The progress of {@code request} once it has at least {@code tokens} generated tokens, as a checkpoint
     * would capture it, on a replica that is then dropped. On a loaded machine the polling thread may sleep
     * through the whole generation; then the capture is tried again (10 runs at most).
     */
    static RequestProgress captureMidRun(ReplicaConfig config, GenerationRequest request, int tokens) throws Exception {
        RequestProgress progress = null;
        for (int attempt = 0; attempt < 10 && (progress == null || progress.generatedTokens().length < tokens);
             attempt++) {
            progress = null;
            try (BlockingReplica runner = new BlockingReplica(config, TIMEOUT)) {
                assertTrue(runner.replica().trySubmit(request, null));
                for (RequestProgress p = runner.replica().progress(request.id()); p != null;
                     p = runner.replica().progress(request.id())) {
                    progress = p;
                    if (p.generatedTokens().length >= tokens) {
                        break;
                    }
                }
            }
        }
        assertNotNull(progress, "no mid-run capture in 10 runs");
        assertTrue(progress.generatedTokens().length >= tokens,
                "no capture after " + tokens + " generated tokens in 10 runs");
        return progress;
    }

    /** The same ids, all answered, with bitwise the same tokens, logprobs and finish reasons. */
    static void assertSameTokens(Map<String, GenerationResult> expected, Map<String, GenerationResult> actual,
                                 String what) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String id : expected.keySet()) {
            GenerationResult e = expected.get(id);
            GenerationResult a = actual.get(id);
            assertTrue(e.ok() && a.ok(), () -> id + ": " + e.error() + " / " + a.error());
            assertArrayEquals(e.tokenIds(), a.tokenIds(), what + ": tokens of " + id);
            assertArrayEquals(e.logprobs(), a.logprobs(), what + ": logprobs (bitwise) of " + id);
            assertEquals(e.finishReason(), a.finishReason(), what + ": finish reason of " + id);
        }
    }

    /** Greedy and sampled requests together give the same tokens and logprobs at TP={@code tp} as at TP=1. */
    private static void assertTpEqualsTp1(Path model, int tp, List<GenerationRequest> greedy,
                                          List<GenerationRequest> sampled) throws Exception {
        List<GenerationRequest> requests = new ArrayList<>(greedy);
        requests.addAll(sampled);
        assertSameTokens(generate(model, 1, requests), generate(model, tp, requests), "TP=" + tp);
    }

    @ParameterizedTest(name = "gqa model, greedy and sampled, TP={0} equals TP=1")
    @ValueSource(ints = {2})
    void gqaModelIsTokenIdenticalAcrossTp(int tp) throws Exception {
        assertTpEqualsTp1(gqa, tp,
                TestRequests.tokenRequests("greedy-", 4, 5, 512, new SamplingParams(0f, 1f, 0, 20, 0, List.of(), true)),
                TestRequests.tokenRequests("sampled-", 4, 3, 512,
                        new SamplingParams(0.9f, 0.9f, 40, 20, 1234, List.of(), true)));
    }

    @ParameterizedTest(name = "32k vocabulary, separate classifier, TP={0} equals TP=1")
    @ValueSource(ints = {2, 4})
    void bigVocabularyModelIsTokenIdenticalAcrossTp(int tp) throws Exception {
        assertTpEqualsTp1(bigVocab, tp,
                TestRequests.tokenRequests("greedy-", 3, 4, 32000,
                        new SamplingParams(0f, 1f, 0, 12, 0, List.of(), true)),
                TestRequests.tokenRequests("sampled-", 3, 4, 32000,
                        new SamplingParams(1.0f, 1f, 0, 12, 99, List.of(), true)));
    }

    @Test
    void batchingNeverChangesARow() throws Exception {
        SamplingParams sampled = new SamplingParams(0.8f, 0.95f, 0, 24, 7, List.of(), true);
        GenerationRequest probe = new GenerationRequest("probe", null, new int[] {1, 40, 41, 42}, null, sampled);
        Map<String, GenerationResult> alone = generate(gqa, 1, List.of(probe));
        List<GenerationRequest> crowd = new ArrayList<>(TestRequests.tokenRequests("other-", 6, 9, 512,
                new SamplingParams(0.5f, 1f, 0, 30, 3, List.of(), true)));
        crowd.add(3, probe);
        Map<String, GenerationResult> together = generate(gqa, 1, crowd);
        assertSameTokens(alone, Map.of("probe", together.get("probe")), "batched");
    }

    @Test
    void prefillInOneTokenStepsEqualsOneChunk() throws Exception {
        GenerationRequest request = new GenerationRequest("r", null, new int[] {1, 5, 6, 7, 8, 9, 10, 11}, null,
                new SamplingParams(0f, 1f, 0, 10, 0, List.of(), true));
        Map<String, GenerationResult> chunked;
        try (BlockingReplica runner = new BlockingReplica(config(gqa, null, 1).withBatch(1, 1), TIMEOUT)) {
            chunked = runner.run(List.of(request));
        }
        assertSameTokens(generate(gqa, 1, List.of(request)), chunked, "one token per step");
    }

    @Test
    void resumingFromProgressContinuesExactly() throws Exception {
        SamplingParams sampled = new SamplingParams(1.0f, 1f, 0, 48, 5, List.of(), true);
        GenerationRequest request = new GenerationRequest("resume", null, new int[] {1, 20, 21}, null, sampled);
        GenerationResult uninterrupted = generate(gqa, 2, List.of(request)).get("resume");
        assertTrue(uninterrupted.tokenIds().length > 10, "needs a long enough generation to cut");

        // Capture the progress mid-run, as a checkpoint would, then drop that replica.
        RequestProgress progress = captureMidRun(config(gqa, null, 2), request, 5);
        int cut = progress.generatedTokens().length;
        assertArrayEquals(java.util.Arrays.copyOf(uninterrupted.tokenIds(), cut), progress.generatedTokens());

        // A fresh replica at another TP degree continues it to the same end.
        try (BlockingReplica runner = new BlockingReplica(config(gqa, null, 1), TIMEOUT)) {
            GenerationResult resumed = runner.run(List.of(request), Map.of("resume", progress)).get("resume");
            assertArrayEquals(uninterrupted.tokenIds(), resumed.tokenIds(), "resumed after " + cut + " tokens");
            assertArrayEquals(uninterrupted.logprobs(), resumed.logprobs(),
                    "logprobs of the tokens before the cut come from the re-prefill, bitwise");
        }
        // A replica whose context is now too small for the resumed request answers with an error.
        try (BlockingReplica runner = new BlockingReplica(config(gqa, null, 1).withMaxContext(4), TIMEOUT)) {
            GenerationResult shrunk = runner.run(List.of(request), Map.of("resume", progress)).get("resume");
            assertTrue(!shrunk.ok() && shrunk.error().contains("context"), shrunk.error());
        }
    }

    @Test
    void aRequestThatCannotRunGetsAnErrorAndTheReplicaGoesOn() throws Exception {
        SamplingParams withStop = new SamplingParams(0f, 1f, 0, 5, 0, List.of("."), false);
        List<GenerationRequest> requests = List.of(
                new GenerationRequest("stop-without-tokenizer", null, new int[] {1, 5}, null, withStop),
                new GenerationRequest("out-of-vocabulary", null, new int[] {1, 99999}, null, SamplingParams.greedy(5)),
                new GenerationRequest("too-long", null, new int[100], null, SamplingParams.greedy(5)),
                new GenerationRequest("fine", null, new int[] {1, 5, 6}, null, SamplingParams.greedy(5)));
        try (BlockingReplica runner = new BlockingReplica(config(gqa, null, 1), TIMEOUT)) {
            Map<String, GenerationResult> results = runner.run(requests);
            assertTrue(results.get("stop-without-tokenizer").error().contains("tokenizer"));
            assertTrue(results.get("out-of-vocabulary").error().contains("vocabulary"));
            assertTrue(results.get("too-long").error().contains("context"));
            assertTrue(results.get("fine").ok());
            assertEquals(5, results.get("fine").tokenIds().length);
        }
    }

    @ParameterizedTest(name = "stories260K greedy at TP={0} equals llama2.c run.c")
    @ValueSource(ints = {1, 2, 4})
    void realModelMatchesLlama2cReference(int tp) throws Exception {
        Path model = SharedModelFiles.require("stories260K.bin");
        Path tokenizer = SharedModelFiles.require("tok512.bin");
        List<String> golden = Files.readAllLines(Path.of(
                TensorParallelReplicaTest.class.getResource("/golden/stories260K_once_upon_a_time_t0_n256.ids").toURI()));
        int[] promptIds = ids(golden.get(0), "prompt_ids ");
        int[] expected = ids(golden.get(1), "generated_ids ");
        String expectedText = Files.readString(Path.of(TensorParallelReplicaTest.class
                .getResource("/golden/stories260K_once_upon_a_time_t0_n256.txt").toURI()));
        try (BlockingReplica runner = new BlockingReplica(config(model, tokenizer.toString(), tp), TIMEOUT)) {
            GenerationResult result = runner.runOne(GenerationRequest.ofText("story", "Once upon a time",
                    SamplingParams.greedy(256 - (promptIds.length - 1))));
            assertArrayEquals(promptIds, result.promptTokenIds());
            assertArrayEquals(expected, result.tokenIds());
            assertEquals(expectedText.strip(), ("Once upon a time" + result.text()).strip());
        }
    }

    private static int[] ids(String line, String prefix) {
        assertTrue(line.startsWith(prefix), line);
        return java.util.Arrays.stream(line.substring(prefix.length()).split(",")).mapToInt(Integer::parseInt)
                .toArray();
    }
}
