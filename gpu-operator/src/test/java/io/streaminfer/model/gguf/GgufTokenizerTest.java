package io.streaminfer.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.model.GoldenIds;
import io.streaminfer.model.Llama2cTokenizer;
import io.streaminfer.model.SharedModelFiles;
import io.streaminfer.model.TextTokenizer;
import io.streaminfer.model.gguf.GgufGoldens.EncodeCase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A GGUF llama (SentencePiece) vocabulary as a TextTokenizer, against llama.cpp and run.c. */
class GgufTokenizerTest {
    /** The one golden text llama-tokenize reads differently: it parses "<s>" and "</s>" as BOS and EOS. */
    private static final String SPECIAL_LOOKING = "<0x41> <s> </s> looks like special tokens";

    @TempDir
    Path dir;

    private static TextTokenizer stories260K() throws Exception {
        try (GgufCheckpoint c = GgufCheckpoint.open(GgufGoldens.file("stories260K.f32.gguf"))) {
            return c.tokenizer();
        }
    }

    @Test
    void theGoldenPromptGivesTheGoldenPromptIds() throws Exception {
        int[][] golden = GoldenIds.load("stories260K_once_upon_a_time_t0_n256.ids");
        TextTokenizer tokenizer = stories260K();
        assertEquals(512, tokenizer.vocabularySize());
        assertArrayEquals(golden[0], tokenizer.encode("Once upon a time", true));
        assertArrayEquals(GgufGoldens.greedy("stories260K.f32.greedy.json").promptIds(),
                tokenizer.encode("Once upon a time", true), "llama.cpp's prompt ids");
        assertArrayEquals(GgufVocabulary.read(GgufGoldens.file("stories260K.f32.gguf")).encode("Once upon a time", true),
                tokenizer.encode("Once upon a time", true), "read from the header alone");
    }

    @Test
    void encodesLikeLlamaCppExceptWhereItParsesSpecialTokenText() throws Exception {
        TextTokenizer tokenizer = stories260K();
        List<EncodeCase> cases = GgufGoldens.encodeCases("/gguf/tokenize_stories260K.txt");
        assertEquals(15, cases.size());
        int same = 0;
        for (EncodeCase c : cases) {
            if (c.text().equals(SPECIAL_LOOKING)) {
                continue;
            }
            assertArrayEquals(c.ids(), tokenizer.encode(c.text(), true), "encode of '" + c.text() + "'");
            same++;
        }
        assertEquals(14, same);
    }

    @Test
    void encodesAndDecodesLikeRunCOnTheSameVocabulary() throws Exception {
        TextTokenizer gguf = stories260K();
        Llama2cTokenizer runC = Llama2cTokenizer.load(SharedModelFiles.require("tok512.bin"), 512);
        for (EncodeCase c : GgufGoldens.encodeCases("/golden/tokenizer_tok512_encode.txt")) {
            assertArrayEquals(c.ids(), gguf.encode(c.text(), true), "run.c's encode of '" + c.text() + "'");
            assertEquals(runC.decode(c.ids()), gguf.decode(c.ids()), "decode of '" + c.text() + "'");
        }
        int[][] golden = GoldenIds.load("stories260K_once_upon_a_time_t0_n256.ids");
        int[] all = new int[golden[0].length + golden[1].length];
        System.arraycopy(golden[0], 0, all, 0, golden[0].length);
        System.arraycopy(golden[1], 0, all, golden[0].length, golden[1].length);
        assertEquals(GoldenIds.text("stories260K_once_upon_a_time_t0_n256.txt"), gguf.decode(all) + "\n",
                "the story run.c printed");
        TextTokenizer.StreamDecoder stream = gguf.streamDecoder(golden[0]);
        StringBuilder text = new StringBuilder();
        for (int id : golden[1]) {
            text.append(stream.next(id));
        }
        text.append(stream.finish());
        assertEquals(GoldenIds.text("stories260K_once_upon_a_time_t0_n256.txt"), "Once upon a time" + text + "\n");
    }

    @Test
    void piecesMapSpaceMarkersByteTokensAndControlTokens() throws Exception {
        Path file = TinyGguf.model("llama", 0, false).write(dir.resolve("tiny.gguf"));
        TextTokenizer t = GgufVocabulary.read(file);
        // "ab c": "▁ab" (9) beats "▁a" + "b"; "▁c" (13); BOS first.
        assertArrayEquals(new int[] {1, 9, 13}, t.encode("ab c", true));
        assertArrayEquals(new int[] {1, 9, 13}, t.encode("ab▁c", true), "▁ in the text is a space");
        assertArrayEquals(new int[] {9, 13}, t.encode("ab c", false));
        assertArrayEquals(new int[] {1, 3, 10, 11}, t.encode("\nA", true), "byte fallback to <0x0A>, <0x41>");
        assertEquals("ab c", t.decode(new int[] {1, 9, 13}), "BOS and the prefix space are dropped");
        assertEquals("\nA", t.decode(new int[] {1, 3, 10, 11, 2}), "byte tokens as bytes, EOS as nothing");
        assertEquals(" ab", t.decode(new int[] {9, 14}), "a control token (<|eot|>) decodes as nothing");
        assertArrayEquals(new int[] {1}, t.encode("", true));

        Path noPrefix = TinyGguf.model("llama", 0, false).put("tokenizer.ggml.add_space_prefix",
                GgufMetadata.ValueType.BOOL, false).put("tokenizer.ggml.add_bos_token", GgufMetadata.ValueType.BOOL, false)
                .put("tokenizer.ggml.add_eos_token", GgufMetadata.ValueType.BOOL, true).write(dir.resolve("np.gguf"));
        TextTokenizer plain = GgufVocabulary.read(noPrefix);
        assertArrayEquals(new int[] {7, 13, 2}, plain.encode("ab c", true), "no prefix, no BOS, EOS last");
        assertEquals("ab c", plain.decode(new int[] {7, 13, 2}));
        assertTrue(GgufVocabulary.read(noPrefix).vocabularySize() == TinyGguf.VOCAB);
    }
}
