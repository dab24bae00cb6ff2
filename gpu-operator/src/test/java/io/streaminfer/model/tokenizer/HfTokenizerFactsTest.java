package io.streaminfer.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** What the engine reads from the three real tokenizers: sizes, BOS, EOS, specials, chat templates. */
class HfTokenizerFactsTest {

    @Test
    void llama3Instruct() {
        HfTokenizer t = SharedTokenizers.load("llama3-instruct");
        assertEquals(128_256, t.vocabularySize());
        assertEquals(128_000, t.bosTokenId().getAsInt());
        assertArrayEquals(new int[] {128_009}, t.eosTokenIds(), "<|eot_id|>");
        assertArrayEquals(new int[] {128_000}, t.postProcessor().prefix());
        assertEquals(256, t.addedTokens().size());
        assertEquals(256, t.specialTokenIds().length);
        assertTrue(t.chatTemplate().orElseThrow().contains("<|start_header_id|>"));
        assertEquals("Ġworld", t.token(1917).orElseThrow());
        assertEquals(128_001, t.tokenId("<|end_of_text|>").getAsInt());
    }

    @Test
    void qwen3() {
        HfTokenizer t = SharedTokenizers.load("qwen3");
        assertEquals(151_669, t.vocabularySize());
        assertFalse(t.bosTokenId().isPresent(), "Qwen has no BOS");
        assertArrayEquals(new int[] {151_645}, t.eosTokenIds(), "<|im_end|>");
        assertEquals(0, t.postProcessor().prefix().length);
        assertEquals(151_667, t.tokenId("<think>").getAsInt());
        assertFalse(Arrays.stream(t.specialTokenIds()).anyMatch(id -> id == 151_667), "<think> is not special");
        assertEquals("<think>\nhm\n</think>", t.decode(t.encode("<think>\nhm\n</think>", true)));
        assertTrue(t.chatTemplate().orElseThrow().contains("enable_thinking"));
    }

    @Test
    void mistral() {
        HfTokenizer t = SharedTokenizers.load("mistral");
        assertEquals(32_000, t.vocabularySize());
        assertEquals(1, t.bosTokenId().getAsInt());
        assertArrayEquals(new int[] {2}, t.eosTokenIds());
        assertArrayEquals(new int[] {1, 22_557, 1526}, t.encode("Hello world", true));
        assertFalse(t.chatTemplate().isPresent(), "this tokenizer_config has none");
    }
}
