package io.streaminfer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Stages are contiguous, cover every layer once, hold at least one layer each (the last may hold only the
 * classifier), and balance the work.
 */
class StageSpecTest {
    private static final ModelConfig STORIES_260K = ModelConfig.llama2c(64, 172, 5, 8, 4, 512, 512, true);
    private static final ModelConfig STORIES_15M = ModelConfig.llama2c(288, 768, 6, 6, 6, 32000, 256, true);

    private static List<Integer> counts(List<StageSpec> stages) {
        return stages.stream().map(StageSpec::layers).toList();
    }

    @Test
    void everySplitIsContiguousAndCoversEveryLayerOnce() {
        for (ModelConfig config : List.of(STORIES_260K, STORIES_15M,
                ModelConfig.llama2c(32, 64, 13, 4, 4, 100_000, 32, false))) {
            for (int pp = 1; pp <= config.numberOfLayers(); pp++) {
                List<StageSpec> stages = StageSpec.split(config, pp);
                assertEquals(pp, stages.size());
                int next = 0;
                for (int s = 0; s < pp; s++) {
                    StageSpec stage = stages.get(s);
                    assertEquals(s, stage.stage());
                    assertEquals(next, stage.firstLayer(), "stage " + s + " of " + pp);
                    assertTrue(stage.layers() >= (stage.last() && pp > 1 ? 0 : 1), "stage " + s + " of " + pp);
                    next = stage.endLayer();
                }
                assertEquals(config.numberOfLayers(), next);
                assertTrue(stages.get(0).first() && stages.get(pp - 1).last());
            }
        }
    }

    @Test
    void aSmallClassifierSplitsTheLayersEvenly() {
        assertEquals(List.of(3, 2), counts(StageSpec.split(STORIES_260K, 2)));
        assertEquals(List.of(2, 2, 1), counts(StageSpec.split(STORIES_260K, 3)));
        assertEquals(List.of(1, 1, 1, 1, 1), counts(StageSpec.split(STORIES_260K, 5)));
    }

    @Test
    void aLargeClassifierLeavesTheLastStageFewerLayersOrNone() {
        // stories15M's classifier (32000 x 288) is as much work as 4.6 of its layers: at PP=2 the last stage
        // holds one layer and the classifier (measured better balanced than six layers against the classifier)
        assertEquals(List.of(5, 1), counts(StageSpec.split(STORIES_15M, 2)));
        assertEquals(List.of(3, 3, 0), counts(StageSpec.split(STORIES_15M, 3)));
        assertEquals("final norm and classifier only", StageSpec.split(STORIES_15M, 3).get(2).describe());
        assertThrows(IllegalArgumentException.class, () -> new StageSpec(0, 2, 0, 0), "only the last may be empty");
    }

    @Test
    void aDegreeAboveTheLayerCountIsRefusedNamingTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StageSpec.check(STORIES_260K, 6));
        assertEquals("--pp 6 exceeds the model's 5 layers: a pipeline has at most one stage per layer",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StageSpec.check(STORIES_260K, 0));
        assertEquals("layers 0-2 + embedding", StageSpec.split(STORIES_260K, 2).get(0).describe());
        assertEquals("layers 3-4 + final norm and classifier", StageSpec.split(STORIES_260K, 2).get(1).describe());
    }

    @Test
    void givenLayerCountsAreTheSplitAndABadOneIsRefusedNamingTheFlag() {
        assertEquals(List.of(5, 1), counts(StageSpec.split(STORIES_15M, 2, List.of(5, 1))));
        assertEquals(List.of(6, 0), counts(StageSpec.split(STORIES_15M, 2, List.of(6, 0))));
        assertEquals(List.of(5, 1), counts(StageSpec.split(STORIES_15M, 2, List.of())), "empty: balanced by work");
        assertEquals("layers 5-5 + final norm and classifier", StageSpec.split(STORIES_15M, 2, List.of(5, 1)).get(1)
                .describe());
        assertEquals("--pp-layers 4,1 holds 5 layers, the model has 6", assertThrows(IllegalArgumentException.class,
                () -> StageSpec.split(STORIES_15M, 2, List.of(4, 1))).getMessage());
        assertEquals("--pp-layers 5,1 gives 2 stages, --pp is 3", assertThrows(IllegalArgumentException.class,
                () -> StageSpec.split(STORIES_15M, 3, List.of(5, 1))).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> StageSpec.split(STORIES_15M, 2, List.of(0, 6)))
                .getMessage().startsWith("--pp-layers 0,6: stage 0 must hold at least one layer"));
        assertThrows(IllegalArgumentException.class, () -> StageSpec.split(STORIES_15M, 2, List.of(7, -1)));
    }
}
