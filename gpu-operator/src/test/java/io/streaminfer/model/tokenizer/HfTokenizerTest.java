package io.streaminfer.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streaminfer.model.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HfTokenizer on small hand-made tokenizer.json files: each component and each refusal on its own. */
class HfTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    // A SentencePiece-style vocabulary: <unk> <s> </s>, 256 byte tokens (3..258), then pieces.
    private static final int SPACE = 259;
    private static final int A = 260;
    private static final int B = 261;
    private static final int SPACE_A = 262;
    private static final int AB = 263;
    private static final int SPACE_AB = 264;
    private static final int E_ACUTE = 265;
    private static final int MASK = 266;
    private static final int XY = 267;

    @TempDir
    Path dir;

    /** Llama 2's shape: Prepend + Replace, no pre-tokenizer, byte fallback, Replace/ByteFallback/Fuse/Strip. */
    private ObjectNode sentencePiece() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode vocab = JSON.createObjectNode();
        vocab.put("<unk>", 0).put("<s>", 1).put("</s>", 2);
        for (int b = 0; b < 256; b++) {
            vocab.put(String.format("<0x%02X>", b), 3 + b);
        }
        vocab.put("\u2581", SPACE).put("a", A).put("b", B).put("\u2581a", SPACE_A).put("ab", AB)
                .put("\u2581ab", SPACE_AB).put("é", E_ACUTE);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").put("unk_token", "<unk>").put("fuse_unk", true).put("byte_fallback", true);
        model.set("vocab", vocab);
        model.putArray("merges").add("\u2581 a").add("a b").add("\u2581a b");
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", 1).put("content", "<s>").put("special", true).put("normalized", false);
        added.addObject().put("id", 2).put("content", "</s>").put("special", true).put("normalized", false);
        root.set("normalizer", node("{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\u2581\"},"
                + "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\u2581\"}]}"));
        root.putNull("pre_tokenizer");
        root.set("post_processor", node("{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\","
                + "\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\","
                + "\"ids\":[1],\"tokens\":[\"<s>\"]}}}"));
        root.set("decoder", node("{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\u2581\"},"
                + "\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \","
                + "\"start\":1,\"stop\":0}]}"));
        return root;
    }

    private static ObjectNode node(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private HfTokenizer load(ObjectNode root) throws IOException {
        Path file = dir.resolve("tokenizer-" + System.nanoTime() + ".json");
        JSON.writeValue(file.toFile(), root);
        return HfTokenizer.load(file);
    }

    @Test
    void mergesByRankWithByteFallbackAndTheTemplate() throws IOException {
        HfTokenizer t = load(sentencePiece());
        assertArrayEquals(new int[] {SPACE_AB}, t.encode("ab", false), "▁ a, then ▁a b");
        assertArrayEquals(new int[] {1, SPACE_AB}, t.encode("ab", true));
        assertArrayEquals(new int[] {SPACE_A, SPACE, SPACE_AB}, t.encode("a  ab", false));
        byte[] han = "中".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertArrayEquals(new int[] {SPACE, E_ACUTE, 3 + (han[0] & 0xFF), 3 + (han[1] & 0xFF), 3 + (han[2] & 0xFF)},
                t.encode("é中", false), "a character outside the vocabulary becomes its bytes");
        assertArrayEquals(new int[] {1, SPACE_A, 2, SPACE, B}, t.encode("<s>a</s>b", false),
                "added tokens first; each stretch between them is normalized (prepended) on its own");
        assertArrayEquals(new int[0], t.encode("", false));
        assertEquals("ab a", t.decode(new int[] {1, SPACE_AB, SPACE_A}), "the leading space goes, specials too");
        assertEquals("<s> ab", t.decode(new int[] {1, SPACE_AB}, false));
        assertEquals("é中", t.decode(t.encode("é中", true)));
        assertEquals(1, t.bosTokenId().getAsInt(), "from the template when no tokenizer_config says otherwise");
        assertEquals(266, t.vocabularySize());
    }

    @Test
    void mergesAsPairsEqualMergesAsStrings() throws IOException {
        ObjectNode pairs = sentencePiece();
        ArrayNode merges = ((ObjectNode) pairs.get("model")).putArray("merges");
        merges.addArray().add("\u2581").add("a");
        merges.addArray().add("a").add("b");
        merges.addArray().add("\u2581a").add("b");
        HfTokenizer strings = load(sentencePiece());
        HfTokenizer arrays = load(pairs);
        for (String text : List.of("ab", "a b ab", "bab aab", "")) {
            assertArrayEquals(strings.encode(text, true), arrays.encode(text, true), text);
        }
    }

    @Test
    void streamsPiecesWithTheLeadingSpaceStrippedOnlyAtTheStart() throws IOException {
        HfTokenizer t = load(sentencePiece());
        TextTokenizer.StreamDecoder fromBos = t.streamDecoder(new int[] {1});
        assertEquals("ab", fromBos.next(SPACE_AB), "nothing came before: Strip removes the space");
        assertEquals(" a", fromBos.next(SPACE_A));
        TextTokenizer.StreamDecoder afterText = t.streamDecoder(new int[] {1, A});
        assertEquals(" ab", afterText.next(SPACE_AB), "the context already read 'a'");
        byte[] han = "中".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        TextTokenizer.StreamDecoder bytes = t.streamDecoder(new int[] {1, A});
        assertEquals("", bytes.next(3 + (han[0] & 0xFF)));
        assertEquals("", bytes.next(3 + (han[1] & 0xFF)));
        assertEquals("中", bytes.next(3 + (han[2] & 0xFF)), "three byte tokens make one character");
        assertEquals("", bytes.finish());
        TextTokenizer.StreamDecoder cut = t.streamDecoder(new int[] {1, 3 + (han[0] & 0xFF)});
        assertEquals("", cut.next(3 + (han[1] & 0xFF)));
        assertEquals("中", cut.next(3 + (han[2] & 0xFF)), "a character the context started");
        TextTokenizer.StreamDecoder unfinished = t.streamDecoder(new int[0]);
        assertEquals("", unfinished.next(3 + (han[0] & 0xFF)));
        assertEquals("\uFFFD b", unfinished.next(SPACE) + unfinished.next(B), "a text token ends the byte run");
        assertEquals("", t.streamDecoder(new int[0]).next(-5), "unknown ids read as nothing");
        assertEquals("", t.decode(new int[] {99_999}));
    }

    @Test
    void unknownCharactersWithoutByteFallbackFuseIntoOneUnk() throws IOException {
        ObjectNode root = sentencePiece();
        ((ObjectNode) root.get("model")).put("byte_fallback", false);
        assertArrayEquals(new int[] {SPACE_A, 0, B}, load(root).encode("a中中b", false));
        assertArrayEquals(new int[] {SPACE, 0, B}, load(root).encode("中中b", false));
        ((ObjectNode) root.get("model")).put("fuse_unk", false);
        assertArrayEquals(new int[] {SPACE, 0, 0, B}, load(root).encode("中中b", false));
    }

    @Test
    void ignoreMergesEmitsAPieceThatIsInTheVocabulary() throws IOException {
        ObjectNode root = sentencePiece();
        root.putNull("normalizer");
        ((ObjectNode) root.get("model")).putArray("merges");
        assertArrayEquals(new int[] {A, B}, load(root).encode("ab", false));
        ((ObjectNode) root.get("model")).put("ignore_merges", true);
        assertArrayEquals(new int[] {AB}, load(root).encode("ab", false));
    }

    @Test
    void addedTokenFlags() throws IOException {
        ObjectNode root = sentencePiece();
        ((ObjectNode) root.get("model").get("vocab")).put("<mask>", MASK).put("xy", XY);
        ArrayNode added = (ArrayNode) root.get("added_tokens");
        added.addObject().put("id", MASK).put("content", "<mask>").put("special", true).put("normalized", false)
                .put("lstrip", true).put("rstrip", true);
        added.addObject().put("id", XY).put("content", "xy").put("special", false).put("normalized", false)
                .put("single_word", true);
        HfTokenizer t = load(root);
        assertArrayEquals(new int[] {SPACE_A, MASK, SPACE_AB}, t.encode("a  <mask>  ab", false),
                "lstrip and rstrip swallow the spaces around the token");
        // Each stretch is normalized on its own: "a " -> "▁a▁", " a" -> "▁▁a" (Llama 2's legacy behaviour).
        assertArrayEquals(new int[] {SPACE_A, SPACE, XY, SPACE, SPACE_A}, t.encode("a xy a", false));
        int[] glued = t.encode("axy", false);
        assertTrue(glued.length > 1 && glued[0] == SPACE_A && glued[1] != XY, "xy inside a word is text");
        assertEquals("a xy  a", t.decode(t.encode("a xy a", true)), "a non-special added token is decoded");
    }

    @Test
    void metaspaceSplitsBeforeEachReplacementAndPrependsAsTheSchemeSays() {
        PreTokenizer first = PreTokenizer.fromJson(node("{\"type\":\"Metaspace\",\"replacement\":\"\u2581\","
                + "\"prepend_scheme\":\"first\",\"split\":true}"));
        assertEquals(List.of("\u2581a", "\u2581b", "\u2581", "\u2581c"), pieces(first, "a b  c", 0));
        assertEquals(List.of("a", "\u2581b"), pieces(first, "a b", 1), "not the first section: no prefix");
        PreTokenizer whole = PreTokenizer.fromJson(node("{\"type\":\"Metaspace\",\"replacement\":\"\u2581\","
                + "\"prepend_scheme\":\"always\",\"split\":false}"));
        assertEquals(List.of("\u2581a\u2581b"), pieces(whole, "a b", 3));
    }

    @Test
    void splitBehaviorsAsHuggingFaceDefinesThem() {
        Pattern dash = Pattern.compile("-");
        assertEquals(List.of("a", "-", "b", "-", "-", "c"), split(dash, PreTokenizer.Behavior.ISOLATED, false));
        assertEquals(List.of("a", "b", "c"), split(dash, PreTokenizer.Behavior.REMOVED, false));
        assertEquals(List.of("a-", "b-", "-", "c"), split(dash, PreTokenizer.Behavior.MERGED_WITH_PREVIOUS, false));
        assertEquals(List.of("a", "-b", "-", "-c"), split(dash, PreTokenizer.Behavior.MERGED_WITH_NEXT, false));
        assertEquals(List.of("a", "-", "b", "--", "c"), split(dash, PreTokenizer.Behavior.CONTIGUOUS, false));
        assertEquals(List.of("-", "-", "-"), split(dash, PreTokenizer.Behavior.REMOVED, true), "inverted");
    }

    @Test
    void refusesUnsupportedComponentsInOneLineNamingThem() throws IOException {
        List<String[]> cases = List.of(
                new String[] {"model", "{\"type\":\"Unigram\",\"vocab\":[]}", "model type 'Unigram'"},
                new String[] {"normalizer", "{\"type\":\"BertNormalizer\"}", "normalizer type 'BertNormalizer'"},
                new String[] {"pre_tokenizer", "{\"type\":\"BertPreTokenizer\"}", "pre_tokenizer type 'BertPreTokenizer'"},
                new String[] {"decoder", "{\"type\":\"WordPiece\",\"prefix\":\"##\"}", "decoder type 'WordPiece'"},
                new String[] {"post_processor", "{\"type\":\"Mystery\"}", "post_processor type 'Mystery'"},
                new String[] {"pre_tokenizer", "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a{1,2}+\"},\"behavior\":"
                        + "\"Isolated\"}", "possessive"});
        for (String[] c : cases) {
            ObjectNode root = sentencePiece();
            root.set(c[0], node(c[1]));
            IOException e = assertThrows(IOException.class, () -> load(root), c[0]);
            assertTrue(e.getMessage().contains(c[2]), e.getMessage());
            assertTrue(e.getMessage().contains("tokenizer-"), "names the file: " + e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        ObjectNode badMerge = sentencePiece();
        ((ArrayNode) badMerge.get("model").get("merges")).add("b a");
        IOException e = assertThrows(IOException.class, () -> load(badMerge));
        assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
    }

    @Test
    void readsTokenizerConfigFacts() throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        JSON.writeValue(model.resolve("tokenizer.json").toFile(), sentencePiece());
        Files.writeString(model.resolve("tokenizer_config.json"), "{\"bos_token\": {\"__type\": \"AddedToken\", "
                + "\"content\": \"<s>\"}, \"eos_token\": \"</s>\", \"chat_template\": [{\"name\": \"default\", "
                + "\"template\": \"{{ messages }}\"}, {\"name\": \"tool_use\", \"template\": \"T\"}]}");
        Files.writeString(model.resolve("generation_config.json"), "{\"eos_token_id\": [2, 0]}");
        HfTokenizer t = HfTokenizer.load(model);
        assertEquals(1, t.bosTokenId().getAsInt());
        assertArrayEquals(new int[] {2, 0}, t.eosTokenIds());
        assertEquals("{{ messages }}", t.chatTemplate().orElseThrow());
        assertEquals("T", t.chatTemplates().get("tool_use"));
        assertArrayEquals(new int[] {1, 2}, t.specialTokenIds());
    }

    private static List<String> pieces(PreTokenizer p, String text, int section) {
        List<String> out = new ArrayList<>();
        p.split(text, section, out);
        return out;
    }

    private static List<String> split(Pattern pattern, PreTokenizer.Behavior behavior, boolean invert) {
        List<String> out = new ArrayList<>();
        PreTokenizer.splitOn(pattern, "a-b--c", behavior, invert, out);
        return out;
    }
}
