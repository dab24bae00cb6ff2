package io.streaminfer.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.model.TextTokenizer;
import io.streaminfer.model.gguf.GgufGoldens.EncodeCase;
import io.streaminfer.model.tokenizer.TokenizerFiles;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * GGUF byte-level BPE vocabularies (tokenizer.ggml.model = gpt2) against llama.cpp's llama-tokenize: cut-down
 * copies of llama.cpp's Llama 3 (pre llama-bpe) and Qwen2 (pre qwen2) vocabulary files, on the texts of the
 * Hugging Face tokenizer goldens (whitespace runs, digits, code, CJK, emoji, special-token text).
 */
class GgufBpeTokenizerTest {
    private static final int LLAMA3_BOS = 6000; // <|begin_of_text|>, renumbered after the 6000 kept ids
    private static final int QWEN_ENDOFTEXT = 6000;

    private static void encodesAsLlamaCpp(String file, String goldens, int expectedCases) throws Exception {
        TextTokenizer tokenizer = GgufVocabulary.read(GgufGoldens.file(file));
        List<EncodeCase> cases = GgufGoldens.encodeCases("/gguf/" + goldens);
        assertEquals(expectedCases, cases.size());
        int specialTexts = 0;
        for (EncodeCase c : cases) {
            int[] ids = tokenizer.encode(c.text(), true);
            assertArrayEquals(c.ids(), ids, "encode of '" + c.text() + "'");
            if (!c.text().contains("<|")) {
                int[] body = tokenizer.encode(c.text(), false);
                assertEquals(c.text(), tokenizer.decode(body), "decode of the ids of '" + c.text() + "'");
            } else {
                specialTexts++;
            }
        }
        assertTrue(specialTexts > 0, "some texts hold special-token text");
    }

    @Test
    void llama3VocabularyEncodesAsLlamaCppAndDecodesLosslessly() throws Exception {
        encodesAsLlamaCpp("vocab-llama-bpe.gguf", "tokenize_vocab-llama-bpe.txt", 184);
    }

    @Test
    void qwen2VocabularyEncodesAsLlamaCppAndDecodesLosslessly() throws Exception {
        encodesAsLlamaCpp("vocab-qwen2.gguf", "tokenize_vocab-qwen2.txt", 184);
    }

    @Test
    void bosFollowsThePreTokenizersDefaultAndSpecialTokensDecodeAsNothing() throws Exception {
        TextTokenizer llama = TokenizerFiles.open(GgufGoldens.file("vocab-llama-bpe.gguf"), 0);
        assertEquals(LLAMA3_BOS, llama.encode("", true)[0], "Llama 3 adds BOS (no add_bos_token key in the file)");
        assertEquals(0, llama.encode("", false).length);
        // llama.cpp's EOG tokens for these files (llama-tokenize -v: "print_info: EOG token = ...")
        assertArrayEquals(new int[] {LLAMA3_BOS + 1, LLAMA3_BOS + 9}, llama.eosTokenIds(),
                "<|end_of_text|>, then <|eot_id|> by its text");
        TextTokenizer qwen = GgufVocabulary.read(GgufGoldens.file("vocab-qwen2.gguf"));
        assertEquals(0, qwen.encode("", true).length, "Qwen2 adds no BOS");
        assertArrayEquals(new int[] {QWEN_ENDOFTEXT, QWEN_ENDOFTEXT + 2}, qwen.eosTokenIds(), "<|endoftext|>, <|im_end|>");
        int[] ids = qwen.encode("<|im_start|>user\nHi<|im_end|>", true);
        assertEquals("user\nHi", qwen.decode(ids), "CONTROL tokens are special: decoding leaves them out");
    }
}
