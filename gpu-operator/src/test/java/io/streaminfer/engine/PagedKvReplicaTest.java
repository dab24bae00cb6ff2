package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.SyntheticCheckpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The paged KV cache is invisible in the output: with the prefix cache on or off, and with preemption
 * forced by a tiny KV budget, every request gives bitwise the same tokens, logprobs and scores, at TP 1
 * and 2, on real replicas.
 */
class PagedKvReplicaTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final int CONTEXT = 96;

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writeModel() throws Exception {
        // GQA (8 query heads over 2 KV heads): dim 64, 2 layers, vocabulary 512, context 96
        model = dir.resolve("gqa.bin");
        SyntheticCheckpoint.write(model, ModelConfig.llama2c(64, 128, 2, 8, 2, 512, CONTEXT, true), 21);
    }

    static ReplicaConfig config(int tp, KvCacheSettings kv) {
        return ReplicaConfig.defaults(model.toString(), null, tp).withBatch(8, 40)
                .withCollectiveTimeout(Duration.ofSeconds(20)).withMaxWaiting(64).withKvCache(kv);
    }

    /** Bytes of {@code positions} KV positions of the test model: 2 layers x 16 KV features x K and V. */
    static long positionsBytes(int positions) {
        return positions * 2L * 2 * 16 * Float.BYTES;
    }

    /**
     * Prompts that share prefixes of 0 to 3 blocks of 16 (several identical ones too), generating greedily
     * and by sampling, with and without logprobs (scoring needs a tokenizer: ReplicaGoldenTest covers it).
     */
    static List<GenerationRequest> sharedPrefixRequests() {
        int[] system = new int[52];
        system[0] = 1;
        for (int i = 1; i < system.length; i++) {
            system[i] = 3 + (i * 37) % 500;
        }
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            int shared = new int[] {52, 48, 33, 16, 5, 52}[i % 6];
            int[] prompt = new int[shared + 2 + i % 4];
            System.arraycopy(system, 0, prompt, 0, shared);
            for (int j = shared; j < prompt.length; j++) {
                prompt[j] = 3 + (i * 101 + j * 7) % 500;
            }
            SamplingParams params = i % 3 == 0 ? new SamplingParams(0f, 1f, 0, 20, 0, List.of(), i % 2 == 0)
                    : new SamplingParams(0.9f, 0.95f, 0, 24, 100 + i, List.of(), i % 2 == 0);
            out.add(new GenerationRequest("gen-" + i, null, prompt, null, params));
        }
        // all but its last position in cached blocks that gen-0 is still prefilling when this one's one row
        // would run: it must wait until they are written
        out.add(new GenerationRequest("one-row-after-a-cached-prefix", null, java.util.Arrays.copyOf(system, 49), null,
                SamplingParams.greedy(12)));
        out.add(new GenerationRequest("twin-a", null, java.util.Arrays.copyOf(system, 40), null,
                new SamplingParams(1f, 1f, 0, 16, 7, List.of(), true)));
        out.add(new GenerationRequest("twin-b", null, java.util.Arrays.copyOf(system, 40), null,
                new SamplingParams(1f, 1f, 0, 16, 7, List.of(), true)));
        return out;
    }

    private static Map<String, GenerationResult> run(ReplicaConfig config, List<GenerationRequest> requests,
                                                     long[] stats) throws Exception {
        try (BlockingReplica runner = new BlockingReplica(config, TIMEOUT)) {
            Map<String, GenerationResult> results = runner.run(requests);
            stats[0] = runner.replica().preemptions();
            stats[1] = Math.round(1e6 * runner.replica().prefixCacheHitRate());
            stats[2] = runner.replica().maxRunning();
            return results;
        }
    }

    private static void assertSame(Map<String, GenerationResult> expected, Map<String, GenerationResult> actual,
                                   String what) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String id : expected.keySet()) {
            GenerationResult e = expected.get(id);
            GenerationResult a = actual.get(id);
            assertEquals(e.ok(), a.ok(), what + ": status of " + id + " (" + e.error() + " / " + a.error() + ")");
            assertEquals(e.error(), a.error(), what + ": error of " + id);
            assertArrayEquals(e.tokenIds(), a.tokenIds(), what + ": tokens of " + id);
            assertArrayEquals(e.logprobs(), a.logprobs(), what + ": logprobs (bitwise) of " + id);
            assertEquals(e.score(), a.score(), what + ": score (bitwise) of " + id);
            assertEquals(e.finishReason(), a.finishReason(), what + ": finish reason of " + id);
        }
    }

    @ParameterizedTest(name = "TP={0}: prefix cache on, off, and preemption under a tiny budget give the same bits")
    @ValueSource(ints = {1, 2})
    void outputIsTheSameWithThePrefixCacheOnOffAndUnderPreemption(int tp) throws Exception {
        List<GenerationRequest> requests = sharedPrefixRequests();
        long[] off = new long[3];
        long[] on = new long[3];
        long[] tiny = new long[3];
        long[] tinyOff = new long[3];
        KvCacheSettings roomy = KvCacheSettings.defaults().withMemory(positionsBytes(16 * CONTEXT));
        Map<String, GenerationResult> withoutCache = run(config(tp, roomy.withPrefixCaching(false)), requests, off);
        Map<String, GenerationResult> withCache = run(config(tp, roomy), requests, on);
        assertSame(withoutCache, withCache, "prefix cache on");
        assertEquals(0, off[1], "no hits with the cache off");
        assertTrue(on[1] > 0, "the shared prefixes hit the cache");
        assertEquals(0, on[0], "a roomy cache preempts nothing");

        // room for one whole context and one more block: sequences must give their blocks back to go on
        KvCacheSettings small = KvCacheSettings.defaults().withMemory(positionsBytes(CONTEXT + 16));
        assertSame(withoutCache, run(config(tp, small), requests, tiny), "preempted, prefix cache on");
        assertSame(withoutCache, run(config(tp, small.withPrefixCaching(false)), requests, tinyOff),
                "preempted, prefix cache off");
        assertTrue(tiny[0] > 0 && tinyOff[0] > 0, "the tiny budget preempts: " + tiny[0] + ", " + tinyOff[0]);
        assertTrue(on[2] > tiny[2], "the roomy cache ran more at once: " + on[2] + " vs " + tiny[2]);
    }

    @Test
    void aPipelineWithStepsInFlightGivesTheSameBitsUnderPreemption() throws Exception {
        List<GenerationRequest> requests = sharedPrefixRequests();
        Map<String, GenerationResult> expected = run(config(1, KvCacheSettings.defaults()
                .withMemory(positionsBytes(16 * CONTEXT)).withPrefixCaching(false)), requests, new long[3]);
        long[] stats = new long[3];
        // PP=2: two micro-batches in flight; sequences with rows in flight are never preempted
        Map<String, GenerationResult> piped = run(config(1, KvCacheSettings.defaults()
                .withMemory(positionsBytes(CONTEXT + 16))).withPipeline(2, true), requests, stats);
        assertSame(expected, piped, "PP=2, tiny budget, prefix cache on");
        assertTrue(stats[0] > 0, "the tiny budget preempts at PP=2 too");
    }
}
