package io.streaminfer.job.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.SamplingParams;
import io.streaminfer.job.codec.JobMetadata;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplesTest {
    private static final SamplingParams PARAMS = new SamplingParams(0.8f, 0.9f, 5, 7, 42L, List.of("."), true);
    private static final GenerationRequest REQUEST = new GenerationRequest("r", "Once", new int[] {1, 79, 110},
            null, PARAMS);

    @Test
    void nOfOneIsTheRequestItself() {
        Map<String, String> metadata = Map.of("a", "b");
        List<Samples.Sample> one = Samples.fanOut(REQUEST, metadata, 1);
        assertEquals(1, one.size());
        assertSame(REQUEST, one.get(0).request());
        assertEquals(metadata, one.get(0).metadata());
        assertFalse(Samples.isSample(one.get(0).metadata()));
        assertThrows(IllegalArgumentException.class, () -> Samples.fanOut(REQUEST, metadata, 0));
    }

    @Test
    void samplesHaveDistinctIdsDerivedSeedsAndTheSamePrompt() {
        List<Samples.Sample> samples = Samples.fanOut(REQUEST, Map.of("a", "b"), 4);
        assertEquals(4, samples.size());
        Set<String> ids = new HashSet<>();
        Set<Long> seeds = new HashSet<>();
        for (int k = 0; k < 4; k++) {
            Samples.Sample s = samples.get(k);
            assertEquals("r\u001f" + k, s.request().id());
            ids.add(s.request().id());
            seeds.add(s.request().params().seed());
            assertEquals(SeedDerivation.sampleSeed(42L, k), s.request().params().seed());
            assertArrayEquals(REQUEST.promptTokenIds(), s.request().promptTokenIds());
            assertEquals("Once", s.request().prompt());
            assertEquals(PARAMS.temperature(), s.request().params().temperature());
            assertEquals(PARAMS.stop(), s.request().params().stop());
            assertEquals(PARAMS.maxTokens(), s.request().params().maxTokens());
            assertEquals(k, Samples.index(s.metadata()));
            assertEquals(4, Samples.count(s.metadata()));
            assertEquals("r", Samples.originalId(s.metadata(), s.request().id()));
            assertEquals(Map.of("a", "b"), Samples.strip(s.metadata()));
        }
        assertEquals(4, ids.size());
        assertEquals(4, seeds.size());
        assertEquals(42L, samples.get(0).request().params().seed(), "sample 0 keeps the request's seed");
    }

    @Test
    void sampleSeedsFollowTheDocumentedRule() {
        assertEquals(7L, SeedDerivation.sampleSeed(7L, 0));
        // SplitMix64's finaliser of seed + k * golden gamma; the first output of SplitMix64 seeded with 0.
        assertEquals(0xe220a8397b1dcdafL, SeedDerivation.sampleSeed(0L, 1));
        assertNotEquals(SeedDerivation.sampleSeed(1L, 1), SeedDerivation.sampleSeed(0L, 2));
        assertThrows(IllegalArgumentException.class, () -> SeedDerivation.sampleSeed(0L, -1));
    }

    @Test
    void producersMayNotUseTheSampleKeys() {
        assertNull(JobMetadata.reservedKeyReason(Map.of("a", "b")));
        String reason = JobMetadata.reservedKeyReason(Map.of("streaminfer.sample.of", "x"));
        assertTrue(reason.contains("streaminfer.sample.of") && reason.contains("reserved"), reason);
    }
}
