package io.streaminfer.job.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.GenerationResult.FinishReason;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CompletionConverterTest {

    @Test
    void convertsAnOkResult() {
        GenerationResult result = new GenerationResult("a1", true, FinishReason.LENGTH, null, " there was",
                new int[] {1, 403, 9}, new int[] {7, 8}, new float[] {-0.25f, -1.5f}, null, 3, 10, 25);
        CompletionRecord c = CompletionConverter.toCompletion(result, "user-7", Map.of("run", "r1"), "stories260K", 2, 4);
        assertEquals("a1", c.getId());
        assertEquals("user-7", c.getKey());
        assertEquals(CompletionStatus.OK, c.getStatus());
        assertEquals("length", c.getFinishReason());
        assertNull(c.getError());
        assertEquals(" there was", c.getText());
        assertEquals(List.of(7, 8), c.getTokenIds());
        assertEquals(3, c.getPromptTokens());
        assertEquals(2, c.getCompletionTokens());
        assertEquals(List.of(-0.25f, -1.5f), c.getLogprobs());
        assertNull(c.getScore());
        assertEquals("stories260K", c.getModel());
        assertEquals(2, c.getReplica());
        assertEquals(4, c.getTpSize());
        assertEquals(3, c.getQueuedMs());
        assertEquals(10, c.getFirstTokenMs());
        assertEquals(25, c.getTotalMs());
        assertEquals(Map.of("run", "r1"), c.getMetadata());
    }

    @Test
    void convertsAScoreAndAnError() {
        GenerationResult scored = new GenerationResult("s", true, FinishReason.STOP, null, "", new int[] {1, 2},
                new int[0], new float[] {-1f}, -1.0, 0, 4, 4);
        CompletionRecord c = CompletionConverter.toCompletion(scored, null, null, "m", 0, 1);
        assertEquals(-1.0, c.getScore());
        assertEquals("stop", c.getFinishReason());
        assertEquals(Map.of(), c.getMetadata());

        CompletionRecord e = CompletionConverter.error("bad", "k", Map.of(), "prompt too long", "m", 1, 2);
        assertEquals(CompletionStatus.ERROR, e.getStatus());
        assertEquals("error", e.getFinishReason());
        assertEquals("prompt too long", e.getError());
        assertEquals(0, e.getCompletionTokens());
        assertNull(e.getLogprobs());
    }
}
