package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.SharedModelFiles;
import io.streaminfer.model.SyntheticCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Pipeline parallelism on real replicas (stage threads, links, TP groups per stage, micro-batches in
 * flight): tokens and logprobs are bitwise those of PP=1, TP=1 at every PP degree, with and without TP,
 * alone or batched, and across a resume at another degree.
 */
class PipelineReplicaTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    static Path dir;
    static Path fourLayers;
    static Path classifierHeavy;

    @BeforeAll
    static void writeModels() throws Exception {
        // 4 layers, GQA (8 query heads over 2 KV heads), separate classifier
        fourLayers = dir.resolve("pp4.bin");
        SyntheticCheckpoint.write(fourLayers, ModelConfig.llama2c(64, 128, 4, 8, 2, 512, 64, false), 21);
        // a 32,000-token classifier outweighs both layers: at PP=2 the last stage holds only the classifier
        classifierHeavy = dir.resolve("heavy.bin");
        SyntheticCheckpoint.write(classifierHeavy, ModelConfig.llama2c(32, 64, 2, 4, 4, 32000, 48, false), 22);
    }

    static ReplicaConfig config(Path model, String tokenizer, int pp, int tp) {
        return ReplicaConfig.defaults(model.toString(), tokenizer, tp).withBatch(8, 64)
                .withCollectiveTimeout(Duration.ofSeconds(20)).withPipeline(pp, true);
    }

    private static Map<String, GenerationResult> generate(ReplicaConfig config, List<GenerationRequest> requests)
            throws Exception {
        try (BlockingReplica runner = new BlockingReplica(config, TIMEOUT)) {
            return runner.run(requests);
        }
    }

    /** As at TP (bitwise tokens, logprobs and finish reasons), and every request generated something. */
    static void assertSameTokens(Map<String, GenerationResult> expected, Map<String, GenerationResult> actual,
                                 String what) {
        TensorParallelReplicaTest.assertSameTokens(expected, actual, what);
        expected.forEach((id, e) -> assertTrue(e.tokenIds().length > 0, id + " generated nothing"));
    }

    private static List<GenerationRequest> mixed(int vocab) {
        List<GenerationRequest> requests = new ArrayList<>(TestRequests.tokenRequests("greedy-", 5, 5, vocab,
                new SamplingParams(0f, 1f, 0, 18, 0, List.of(), true)));
        requests.addAll(TestRequests.tokenRequests("sampled-", 5, 3, vocab,
                new SamplingParams(0.9f, 0.9f, 40, 18, 1234, List.of(), true)));
        return requests;
    }

    @ParameterizedTest(name = "synthetic 4 layers: PP={0} x TP={1} equals PP=1, greedy and sampled, batched")
    @CsvSource({"2,1", "3,1", "4,1", "2,2"})
    void everyPipelineDegreeIsBitwiseThatOfOneStage(int pp, int tp) throws Exception {
        List<GenerationRequest> requests = mixed(512);
        assertSameTokens(generate(config(fourLayers, null, 1, 1), requests),
                generate(config(fourLayers, null, pp, tp), requests), "PP=" + pp + " x TP=" + tp);
    }

    @ParameterizedTest(name = "classifier-only last stage: PP=2 x TP={0} equals PP=1")
    @CsvSource({"1", "2"})
    void aLastStageOfOnlyTheClassifierIsBitwiseThatOfOneStage(int tp) throws Exception {
        try (io.streaminfer.model.Checkpoint checkpoint = io.streaminfer.model.Llama2cCheckpoint.open(classifierHeavy)) {
            assertEquals(0, io.streaminfer.model.StageSpec.split(checkpoint.config(), 2).get(1).layers());
        }
        List<GenerationRequest> requests = mixed(32000);
        assertSameTokens(generate(config(classifierHeavy, null, 1, 1), requests),
                generate(config(classifierHeavy, null, 2, tp), requests), "PP=2 x TP=" + tp);
    }

    @Test
    void givenLayerCountsPerStageGiveTheSameTokens() throws Exception {
        List<GenerationRequest> requests = mixed(512);
        Map<String, GenerationResult> whole = generate(config(fourLayers, null, 1, 1), requests);
        for (List<Integer> layers : List.of(List.of(1, 3), List.of(3, 1), List.of(4, 0))) {
            assertSameTokens(whole, generate(config(fourLayers, null, 2, 1).withPipelineLayers(layers), requests),
                    "--pp-layers " + layers);
        }
    }

    @Test
    void overlapOffGivesTheSameTokens() throws Exception {
        List<GenerationRequest> requests = mixed(512);
        assertSameTokens(generate(config(fourLayers, null, 2, 1), requests),
                generate(config(fourLayers, null, 2, 1).withPipeline(2, false), requests), "overlap off");
    }

    @Test
    void aRequestAloneEqualsTheSameRequestInACrowdAtPp2() throws Exception {
        SamplingParams sampled = new SamplingParams(0.8f, 0.95f, 0, 24, 7, List.of(), true);
        GenerationRequest probe = new GenerationRequest("probe", null, new int[] {1, 40, 41, 42}, null, sampled);
        Map<String, GenerationResult> alone = generate(config(fourLayers, null, 1, 1), List.of(probe));
        List<GenerationRequest> crowd = new ArrayList<>(TestRequests.tokenRequests("other-", 7, 9, 512,
                new SamplingParams(0.5f, 1f, 0, 30, 3, List.of(), true)));
        crowd.add(3, probe);
        Map<String, GenerationResult> together;
        try (BlockingReplica runner = new BlockingReplica(config(fourLayers, null, 2, 1).withBatch(4, 16), TIMEOUT)) {
            assertEquals(List.of("tp:0-pp0-rank-0", "tp:0-pp1-rank-0"), liveThreads("tp:0-pp"), "one thread per stage");
            together = runner.run(crowd);
            assertTrue(runner.replica().stageWaitNanos() > 0, "the stages met through their link");
            long[] busy = runner.replica().stageBusyMillis();
            assertEquals(2, busy.length, "one busy figure per stage");
            assertTrue(busy[0] >= 0 && busy[1] >= 0, Arrays.toString(busy));
        }
        assertSameTokens(alone, Map.of("probe", together.get("probe")), "batched at PP=2");
        assertEquals(List.of(), liveThreads("tp:0-pp"), "closing the replica leaves no stage thread");
    }

    @Test
    void aResumeAtAnotherPipelineDegreeContinuesExactly() throws Exception {
        SamplingParams sampled = new SamplingParams(1.0f, 1f, 0, 40, 5, List.of(), true);
        GenerationRequest request = new GenerationRequest("resume", null, new int[] {1, 20, 21}, null, sampled);
        GenerationResult uninterrupted = generate(config(fourLayers, null, 1, 1), List.of(request)).get("resume");
        assertTrue(uninterrupted.tokenIds().length > 10, "needs a long enough generation to cut");
        RequestProgress progress = TensorParallelReplicaTest.captureMidRun(config(fourLayers, null, 2, 1), request, 5);
        try (BlockingReplica runner = new BlockingReplica(config(fourLayers, null, 3, 1), TIMEOUT)) {
            GenerationResult resumed = runner.run(List.of(request), Map.of("resume", progress)).get("resume");
            assertArrayEquals(uninterrupted.tokenIds(), resumed.tokenIds(),
                    "cut at PP=2 after " + progress.generatedTokens().length + " tokens, resumed at PP=3");
            assertArrayEquals(uninterrupted.logprobs(), resumed.logprobs());
        }
    }

    @Test
    void aPipelineDegreeAboveTheLayerCountIsRefusedBeforeLoading() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LocalReplica.start(config(fourLayers, null, 5, 1), 0, null));
        assertEquals("--pp 5 exceeds the model's 4 layers: a pipeline has at most one stage per layer",
                e.getMessage());
    }

    @ParameterizedTest(name = "stories260K greedy at PP={0} x TP={1} equals llama2.c run.c; sampled equals PP=1")
    @CsvSource({"2,1", "3,1", "2,2"})
    void realModelMatchesLlama2cReferenceAtEveryPipelineDegree(int pp, int tp) throws Exception {
        Path model = SharedModelFiles.require("stories260K.bin");
        Path tokenizer = SharedModelFiles.require("tok512.bin");
        List<String> golden = Files.readAllLines(Path.of(
                PipelineReplicaTest.class.getResource("/golden/stories260K_once_upon_a_time_t0_n256.ids").toURI()));
        int[] promptIds = ids(golden.get(0), "prompt_ids ");
        int[] expected = ids(golden.get(1), "generated_ids ");
        GenerationRequest greedy = GenerationRequest.ofText("story", "Once upon a time",
                SamplingParams.greedy(256 - (promptIds.length - 1)));
        try (BlockingReplica runner = new BlockingReplica(config(model, tokenizer.toString(), pp, tp), TIMEOUT)) {
            GenerationResult result = runner.runOne(greedy);
            assertArrayEquals(promptIds, result.promptTokenIds());
            assertArrayEquals(expected, result.tokenIds(), "run.c's greedy ids at PP=" + pp + " x TP=" + tp);
        }
        List<GenerationRequest> sampled = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            sampled.add(GenerationRequest.ofText("s" + i, "Once upon a time, a " + "little ".repeat(i),
                    new SamplingParams(0.8f, 0.9f, 0, 40, 100 + i, List.of(), true)));
        }
        assertSameTokens(generate(config(model, tokenizer.toString(), 1, 1), sampled),
                generate(config(model, tokenizer.toString(), pp, tp), sampled), "stories260K sampled at PP=" + pp);
    }

    static List<String> liveThreads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith(prefix))
                .map(Thread::getName).sorted().toList();
    }

    private static int[] ids(String line, String prefix) {
        assertTrue(line.startsWith(prefix), line);
        return java.util.Arrays.stream(line.substring(prefix.length()).split(",")).mapToInt(Integer::parseInt)
                .toArray();
    }
}
