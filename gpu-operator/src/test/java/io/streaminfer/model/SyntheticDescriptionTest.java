package io.streaminfer.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticDescriptionTest {

    @Test
    void parsesExplicitKeys() {
        SyntheticCheckpoint.Spec spec = SyntheticCheckpoint.parse(
                "synthetic:dim=288,hidden=768,layers=6,heads=6,kv_heads=6,vocab=32000,seq_len=256,shared=true,seed=7");
        assertEquals(ModelConfig.llama2c(288, 768, 6, 6, 6, 32000, 256, true), spec.config());
        assertEquals(7L, spec.seed());
    }

    @Test
    void presetsHaveTheRealShapes() {
        assertEquals(ModelConfig.llama2c(288, 768, 6, 6, 6, 32000, 256, true),
                SyntheticCheckpoint.parseDescription("synthetic:stories15M"));
        assertEquals(ModelConfig.llama2c(64, 172, 5, 8, 4, 512, 512, true),
                SyntheticCheckpoint.parseDescription("synthetic:stories260K"));
        assertEquals(0L, SyntheticCheckpoint.parse("synthetic:stories15M").seed());
    }

    @Test
    void presetsTakeOverrides() {
        SyntheticCheckpoint.Spec spec = SyntheticCheckpoint.parse("synthetic:stories15M,layers=2,shared=false,seed=-3");
        assertEquals(2, spec.config().numberOfLayers());
        assertFalse(spec.config().tiedEmbeddings());
        assertEquals(288, spec.config().dim());
        assertEquals(-3L, spec.seed());
        // Changing heads without kv_heads means plain multi-head attention.
        assertEquals(4, SyntheticCheckpoint.parseDescription("synthetic:stories260K,heads=4").numberOfKeyValueHeads());
    }

    @Test
    void kvHeadsDefaultToHeadsAndSharedToTrue() {
        ModelConfig config = SyntheticCheckpoint.parseDescription(
                "synthetic:dim=64,hidden=128,layers=1,heads=4,vocab=300,seq_len=32");
        assertEquals(4, config.numberOfKeyValueHeads());
        assertTrue(config.tiedEmbeddings());
    }

    @Test
    void errorsNameTheProblem() {
        assertMessage("synthetic:stories15M,dimm=3", "unknown key 'dimm'");
        assertMessage("synthetic:dim=abc,hidden=1,layers=1,heads=1,vocab=1,seq_len=1", "key 'dim' needs an integer");
        assertMessage("synthetic:dim=64,hidden=128,layers=1,heads=4,vocab=300", "missing key 'seq_len'");
        assertMessage("synthetic:stories15M,shared=maybe", "key 'shared' needs true or false");
        assertMessage("synthetic:stories15M,seed=1,seed=2", "key 'seed' appears twice");
        assertMessage("synthetic:stories1B", "unknown synthetic preset 'stories1B'");
        assertMessage("synthetic:stories15M,heads=7", "not a multiple of n_heads");
        assertMessage("model.bin", "starts with 'synthetic:'");
        assertMessage("synthetic:", "empty synthetic model description");
    }

    private static void assertMessage(String description, String expectedPart) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SyntheticCheckpoint.parse(description));
        assertTrue(e.getMessage().contains(expectedPart), e.getMessage());
    }
}
