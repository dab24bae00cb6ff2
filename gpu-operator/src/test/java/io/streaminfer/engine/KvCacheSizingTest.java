package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.model.ModelConfig;
import org.junit.jupiter.api.Test;

/** The KV pool's size: the budget given, or one derived from the model and the heap; never below a context. */
class KvCacheSizingTest {
    // 2 layers x 16 KV features: 2 x 2 x 16 x 4 = 256 bytes per position, 4 KiB per block of 16
    private static final ModelConfig MODEL = ModelConfig.llama2c(64, 128, 2, 8, 2, 512, 256, true);

    @Test
    void aGivenBudgetIsCutIntoWholeBlocks() {
        assertEquals(256, KvCacheSettings.bytesPerPosition(MODEL));
        KvCacheSizing sizing = KvCacheSizing.of(KvCacheSettings.defaults().withMemory(100 * 4096 + 100), MODEL, 256,
                8, true, 1L << 30);
        assertEquals(100, sizing.blocks());
        assertEquals(100 * 4096, sizing.bytes());
        assertTrue(!sizing.derived());
    }

    @Test
    void theDefaultIsMaxBatchContextsCappedByAQuarterOfTheHeapButNeverBelowOneContext() {
        KvCacheSettings derived = KvCacheSettings.defaults();
        assertEquals(8 * 16, KvCacheSizing.of(derived, MODEL, 256, 8, true, 1L << 30).blocks(), "8 contexts of 16 blocks");
        assertEquals(40, KvCacheSizing.of(derived, MODEL, 256, 8, true, 4 * 40 * 4096).blocks(), "a quarter of the heap");
        assertEquals(16, KvCacheSizing.of(derived, MODEL, 256, 8, true, 4096).blocks(), "at least one context");
        assertEquals(8 * 16, KvCacheSizing.of(derived, MODEL, 256, 8, false, 4096).blocks(), "a device ignores the heap");
    }

    @Test
    void aBudgetBelowOneContextNamesTheFlag() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCacheSizing.of(
                KvCacheSettings.defaults().withMemory(10 * 4096), MODEL, 256, 8, true, 1L << 30));
        assertTrue(e.getMessage().startsWith("--kv-cache-memory 40.0 KiB holds 160 positions"), e.getMessage());
    }
}
