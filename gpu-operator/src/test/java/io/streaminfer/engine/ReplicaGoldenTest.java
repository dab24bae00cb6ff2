package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.SharedModelFiles;
import io.streaminfer.model.SyntheticCheckpoint;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole results (tokens, texts, finish reasons, errors, logprobs and scores to the bit) of a fixed set of
 * requests on the real stories260K model and on a synthetic 32k-vocabulary one, against goldens recorded
 * from the replica before it was split into its rooms (planner, slots, sampling pool, samplers, stop
 * criteria). Run with {@code -Dstreaminfer.golden.write=true} to record them again (only on purpose: the
 * file is the proof that the split changed no output).
 */
class ReplicaGoldenTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final Path GOLDEN = Path.of("src/test/resources/golden/replica_outputs.txt");

    @TempDir
    static Path dir;

    private static SamplingParams params(float t, float topP, int topK, int max, long seed, List<String> stop,
                                         boolean logprobs) {
        return new SamplingParams(t, topP, topK, max, seed, stop, logprobs);
    }

    /** Text requests on stories260K: every sampler shape, stops across tokens, multi-byte text, scoring, errors. */
    static List<GenerationRequest> storyRequests() {
        List<GenerationRequest> r = new ArrayList<>();
        String once = "Once upon a time";
        r.add(GenerationRequest.ofText("greedy", once, params(0f, 1f, 0, 60, 0, List.of(), true)));
        r.add(GenerationRequest.ofText("greedy-to-eos", once, params(0f, 1f, 0, 400, 0, List.of(), false)));
        r.add(GenerationRequest.ofText("categorical", once, params(1f, 1f, 0, 80, 11, List.of(), true)));
        r.add(GenerationRequest.ofText("hot", "Lily", params(1.6f, 1f, 0, 120, 12, List.of(), true)));
        r.add(GenerationRequest.ofText("top-k", once, params(0.9f, 1f, 40, 80, 13, List.of(), true)));
        r.add(GenerationRequest.ofText("top-k-top-p", once, params(1.1f, 0.5f, 5, 80, 14, List.of(), false)));
        r.add(GenerationRequest.ofText("top-p", once, params(0.8f, 0.9f, 0, 80, 15, List.of(), true)));
        r.add(GenerationRequest.ofText("top-k-over-vocab", once, params(0.7f, 0.95f, 600, 50, 16, List.of(), false)));
        r.add(GenerationRequest.ofText("stop-dot", once, params(0f, 1f, 0, 100, 0, List.of("."), false)));
        r.add(GenerationRequest.ofText("stop-across-tokens", once,
                params(0f, 1f, 0, 100, 0, List.of("little girl", "zzz"), false)));
        r.add(GenerationRequest.ofText("stop-first-of-two", once,
                params(0f, 1f, 0, 200, 0, List.of("park", "Lily"), true)));
        r.add(GenerationRequest.ofText("stop-never", once, params(0.9f, 1f, 0, 40, 17, List.of("@@@"), false)));
        r.add(GenerationRequest.ofText("stop-newline", once, params(1f, 1f, 0, 300, 18, List.of("\n"), false)));
        r.add(GenerationRequest.ofText("unicode-prompt", "Über café 😀 naïve 日本",
                params(1.8f, 1f, 0, 60, 19, List.of(), true)));
        r.add(GenerationRequest.ofText("unicode-stop", "Über café 😀",
                params(2.5f, 1f, 0, 120, 20, List.of("é", "😀"), false)));
        r.add(GenerationRequest.ofText("replacement-stop", "Über",
                params(3f, 1f, 0, 150, 21, List.of("\uFFFD"), false)));
        r.add(GenerationRequest.ofText("replacement-text", "Über",
                params(3f, 1f, 0, 90, 22, List.of("qq"), false)));
        r.add(GenerationRequest.ofText("empty-prompt", "", params(0f, 1f, 0, 30, 0, List.of(), false)));
        r.add(new GenerationRequest("score-text", once, null, ", there was a little girl", SamplingParams.greedy(1)));
        r.add(new GenerationRequest("score-merge", "Once upon a ti", null, "me there", SamplingParams.greedy(1)));
        r.add(new GenerationRequest("score-empty-target", once, null, "", SamplingParams.greedy(1)));
        r.add(new GenerationRequest("score-ids", null, new int[] {1, 403, 407, 261, 378}, ", there was",
                SamplingParams.greedy(1)));
        r.add(new GenerationRequest("ids", null, new int[] {1, 403, 407}, null,
                params(0.9f, 0.9f, 0, 40, 23, List.of("."), true)));
        r.add(new GenerationRequest("ids-empty-target", null, new int[] {1, 403}, "", SamplingParams.greedy(1)));
        r.add(new GenerationRequest("ids-empty", null, new int[0], null, SamplingParams.greedy(3)));
        r.add(new GenerationRequest("ids-out-of-vocabulary", null, new int[] {1, 512}, null, SamplingParams.greedy(3)));
        r.add(new GenerationRequest("ids-negative", null, new int[] {1, -1}, null, SamplingParams.greedy(3)));
        r.add(GenerationRequest.ofText("too-long", "Once upon a time ".repeat(300), SamplingParams.greedy(3)));
        r.add(new GenerationRequest("score-too-long", once, null, " there was".repeat(400), SamplingParams.greedy(1)));
        return r;
    }

    /** Requests at the edges of a 24-position context. */
    static List<GenerationRequest> shortContextRequests() {
        List<GenerationRequest> r = new ArrayList<>();
        for (int n : new int[] {22, 23, 24, 25}) {
            int[] ids = new int[n];
            ids[0] = 1;
            for (int i = 1; i < n; i++) {
                ids[i] = 300 + i;
            }
            r.add(new GenerationRequest("prompt-" + n, null, ids, null, params(0f, 1f, 0, 10, 0, List.of(), true)));
            r.add(new GenerationRequest("score-" + n, null, Arrays.copyOf(ids, n - 3), "abc", SamplingParams.greedy(1)));
            r.add(new GenerationRequest("score-long-" + n, null, Arrays.copyOf(ids, n - 1), "abc",
                    SamplingParams.greedy(1)));
        }
        return r;
    }

    /** Token requests on a 32k vocabulary without a tokenizer: the nucleus cut-off and top-k heaps at size. */
    static List<GenerationRequest> bigVocabularyRequests() {
        List<GenerationRequest> r = new ArrayList<>();
        float[][] shapes = {{0f, 1f, 0}, {1f, 1f, 0}, {0.7f, 0.9f, 0}, {1.2f, 0.3f, 0}, {1f, 1f, 50}, {0.5f, 0.8f, 200},
            {2f, 0.99f, 31999}, {1f, 1f, 32000}};
        for (int i = 0; i < shapes.length; i++) {
            int[] prompt = {1, 3 + 97 * i, 5 + 1013 * i, 7 + 31 * i};
            r.add(new GenerationRequest("v" + i, null, prompt, null,
                    params(shapes[i][0], shapes[i][1], (int) shapes[i][2], 24, 1000 + i, List.of(), i % 2 == 0)));
        }
        r.add(new GenerationRequest("stop-needs-tokenizer", null, new int[] {1, 5}, null,
                params(0f, 1f, 0, 5, 0, List.of("."), false)));
        r.add(GenerationRequest.ofText("text-needs-tokenizer", "hello", SamplingParams.greedy(5)));
        r.add(new GenerationRequest("target-needs-tokenizer", null, new int[] {1, 5}, "x", SamplingParams.greedy(1)));
        return r;
    }

    /** The request's stream state after {@code draws} draws: SplitMix64 of the seed, then xorshift64* steps. */
    static long stateAfter(long seed, int draws) {
        long z = seed + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        long x = z != 0 ? z : 0x9E3779B97F4A7C15L;
        for (int i = 0; i < draws; i++) {
            x ^= x >>> 12;
            x ^= x << 25;
            x ^= x >>> 27;
        }
        return x;
    }

    private static Map<String, GenerationResult> run(ReplicaConfig config, List<GenerationRequest> requests,
                                                     Map<String, RequestProgress> resume) throws Exception {
        try (BlockingReplica replica = new BlockingReplica(config, TIMEOUT)) {
            return replica.run(requests, resume);
        }
    }

    /** Everything of a result but its timings, one line, fields that may hold any text in base64. */
    static String line(String group, GenerationResult r) {
        StringBuilder b = new StringBuilder(group).append(' ').append(r.id()).append(' ').append(r.ok())
                .append(' ').append(r.finishReason()).append(" e=").append(b64(r.error()))
                .append(" t=").append(b64(r.text())).append(" p=").append(ids(r.promptTokenIds()))
                .append(" g=").append(ids(r.tokenIds())).append(" l=");
        if (r.logprobs() == null) {
            b.append("null");
        } else {
            for (float f : r.logprobs()) {
                b.append(Integer.toHexString(Float.floatToRawIntBits(f))).append(',');
            }
        }
        b.append(" s=").append(r.score() == null ? "null" : Long.toHexString(Double.doubleToRawLongBits(r.score())));
        return b.toString().replace(" ", "\t");
    }

    private static String ids(int[] ids) {
        return ids == null ? "null" : Arrays.stream(ids).mapToObj(Integer::toString)
                .collect(java.util.stream.Collectors.joining(","));
    }

    private static String b64(String s) {
        return s == null ? "-" : Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static void add(List<String> lines, String group, List<GenerationRequest> requests,
                            Map<String, GenerationResult> results) {
        for (GenerationRequest request : requests) {
            lines.add(line(group, results.get(request.id())));
        }
    }

    @Test
    void outputsEqualTheRecordedGoldens() throws Exception {
        Path model = SharedModelFiles.require("stories260K.bin");
        String tokenizer = SharedModelFiles.require("tok512.bin").toString();
        List<String> lines = new ArrayList<>();

        ReplicaConfig stories = ReplicaConfig.defaults(model.toString(), tokenizer, 1).withBatch(8, 64)
                .withCollectiveTimeout(Duration.ofSeconds(20));
        List<GenerationRequest> storyRequests = storyRequests();
        Map<String, GenerationResult> first = run(stories, storyRequests, Map.of());
        add(lines, "stories", storyRequests, first);
        // TP=2 with two threads per rank: the sampling pool's helpers take part; nothing may change.
        Map<String, GenerationResult> pooled = run(stories.withBackend("vector", 2).withBatch(4, 16),
                storyRequests, Map.of());
        for (GenerationRequest request : storyRequests) {
            assertEquals(line("stories", first.get(request.id())), line("stories", pooled.get(request.id())),
                    "with the sampling pool: " + request.id());
        }

        // A KV budget of one whole context and one block: sequences are preempted and recomputed, and the
        // prefix cache hands blocks back to them (and to the prompts that share "Once upon a time"). Scores,
        // logprobs and tokens stay the bits of the first run.
        long perPosition;
        try (io.streaminfer.model.Checkpoint checkpoint = io.streaminfer.model.Checkpoints.open(model)) {
            perPosition = KvCacheSizing.bytesPerPosition(checkpoint.config());
        }
        KvCacheSettings tiny = KvCacheSettings.defaults().withMemory(perPosition * (512 + 16));
        try (BlockingReplica replica = new BlockingReplica(stories.withKvCache(tiny), TIMEOUT)) {
            Map<String, GenerationResult> squeezed = replica.run(storyRequests, Map.of());
            assertTrue(replica.replica().preemptions() > 0, "the tiny budget preempts");
            for (GenerationRequest request : storyRequests) {
                assertEquals(line("stories", first.get(request.id())), line("stories", squeezed.get(request.id())),
                        "preempted under a tiny KV budget: " + request.id());
            }
        }

        // Resumed mid-way from the first run's tokens: the stream state after them is the sampler's after as
        // many draws, which a fresh sampler reaches by sampling the same prefix again.
        Map<String, RequestProgress> resume = new LinkedHashMap<>();
        List<GenerationRequest> resumed = new ArrayList<>();
        for (String id : List.of("categorical", "top-p", "stop-first-of-two", "unicode-stop")) {
            GenerationRequest request = storyRequests.stream().filter(q -> q.id().equals(id)).findFirst().orElseThrow();
            int[] tokens = first.get(id).tokenIds();
            int cut = tokens.length / 2;
            long state = stateAfter(request.params().seed(), request.params().isGreedy() ? 0 : cut);
            resume.put(id, new RequestProgress(Arrays.copyOf(tokens, cut), state));
            resumed.add(request);
        }
        add(lines, "resumed", resumed, run(stories, resumed, resume));

        List<GenerationRequest> edges = shortContextRequests();
        add(lines, "context24", edges, run(stories.withMaxContext(24), edges, Map.of()));

        Path big = dir.resolve("vocab32k.bin");
        SyntheticCheckpoint.write(big, ModelConfig.llama2c(32, 64, 2, 4, 4, 32000, 64, false), 12);
        List<GenerationRequest> bigRequests = bigVocabularyRequests();
        add(lines, "vocab32k", bigRequests, run(ReplicaConfig.defaults(big.toString(), null, 1).withBatch(4, 32)
                .withCollectiveTimeout(Duration.ofSeconds(20)), bigRequests, Map.of()));

        if (Boolean.getBoolean("streaminfer.golden.write")) {
            Files.write(GOLDEN, lines, StandardCharsets.UTF_8);
            return;
        }
        List<String> golden = Files.readAllLines(GOLDEN, StandardCharsets.UTF_8);
        assertEquals(golden.size(), lines.size(), "number of results");
        List<String> differences = new ArrayList<>();
        for (int i = 0; i < golden.size(); i++) {
            if (!golden.get(i).equals(lines.get(i))) {
                differences.add("result " + i + "\n  golden: " + golden.get(i) + "\n  now:    " + lines.get(i));
            }
        }
        assertEquals(List.of(), differences, "results that differ from the goldens");
        assertTrue(golden.stream().anyMatch(l -> l.contains("\tSTOP\t")), "the goldens include stops");
    }
}
