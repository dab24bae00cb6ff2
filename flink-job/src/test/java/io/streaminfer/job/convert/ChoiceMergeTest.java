package io.streaminfer.job.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.schemas.Choice;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

public class ChoiceMergeTest {
    /** Sample {@code k} of 3 of record "p": k + 1 tokens, all equal to 10 * k. */
    public static CompletionRecord sample(int k, int n, boolean ok) {
        Map<String, String> metadata = new java.util.HashMap<>(Map.of("user", "u",
                "streaminfer.origin.file", "in.jsonl"));
        metadata.putAll(Samples.fanOut(new io.streaminfer.engine.GenerationRequest("p", "x", null, null,
                new io.streaminfer.engine.SamplingParams(1, 1, 0, 4, 3L, List.of(), false)), Map.of(), n)
                .get(k).metadata());
        List<Integer> tokens = new ArrayList<>();
        for (int i = 0; i <= k; i++) {
            tokens.add(10 * k);
        }
        return CompletionRecord.newBuilder().setId(Samples.sampleId("p", k)).setKey("key")
                .setStatus(ok ? CompletionStatus.OK : CompletionStatus.ERROR)
                .setFinishReason(ok ? "length" : "error").setError(ok ? null : "boom " + k)
                .setText(ok ? "t" + k : "").setTokenIds(ok ? tokens : List.of())
                .setPromptTokens(5).setCompletionTokens(ok ? tokens.size() : 0)
                .setModel("m").setReplica(k).setTpSize(2).setQueuedMs(10 - k).setFirstTokenMs(20 + k)
                .setTotalMs(30 + k).setMetadata(metadata).build();
    }

    @Test
    void choicesInIndexOrderChoice0OnTopUsageSummed() {
        CompletionRecord merged = ChoiceMerge.merge(List.of(sample(2, 3, true), sample(0, 3, true), sample(1, 3, true)));
        assertEquals("p", merged.getId());
        assertEquals("key", merged.getKey());
        assertEquals(CompletionStatus.OK, merged.getStatus());
        assertNull(merged.getError());
        assertEquals(3, merged.getChoices().size());
        for (int k = 0; k < 3; k++) {
            Choice c = merged.getChoices().get(k);
            assertEquals(k, c.getIndex());
            assertEquals("t" + k, c.getText());
            assertEquals(k + 1, c.getTokenIds().size());
        }
        assertEquals("t0", merged.getText());
        assertEquals(List.of(0), merged.getTokenIds());
        assertEquals("length", merged.getFinishReason());
        assertEquals(5, merged.getPromptTokens(), "the prompt counts once");
        assertEquals(1 + 2 + 3, merged.getCompletionTokens());
        assertEquals(0, merged.getReplica());
        assertEquals(8, merged.getQueuedMs());
        assertEquals(20, merged.getFirstTokenMs());
        assertEquals(32, merged.getTotalMs());
        assertEquals(Map.of("user", "u"), merged.getMetadata(), "neither origin nor sample keys reach the completion");
    }

    @Test
    void aFailedSampleMakesTheRecordAnErrorNamingIt() {
        CompletionRecord merged = ChoiceMerge.merge(List.of(sample(0, 3, true), sample(1, 3, false), sample(2, 3, false)));
        assertEquals(CompletionStatus.ERROR, merged.getStatus());
        assertEquals("2 of 3 samples failed: sample 1: boom 1; sample 2: boom 2", merged.getError());
        assertEquals(3, merged.getChoices().size());
        assertEquals("error", merged.getChoices().get(1).getFinishReason());
        assertEquals("t0", merged.getText());
        assertEquals(1, merged.getCompletionTokens());
    }

    @Test
    void missingOrRepeatedSamplesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ChoiceMerge.merge(List.of(sample(0, 3, true), sample(1, 3, true))));
        assertThrows(IllegalArgumentException.class, () -> ChoiceMerge.merge(List.of(sample(0, 2, true), sample(0, 2, true))));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ChoiceMerge.merge(List.of())).getMessage()
                .contains("no samples"));
    }
}
