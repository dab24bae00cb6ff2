package io.streaminfer.model.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streaminfer.model.tokenizer.HfTokenizer;
import java.util.List;
import java.util.Map;

/**
 * A GGUF byte-level BPE vocabulary ({@code tokenizer.ggml.model = "gpt2"}: Llama 3, Qwen2/3) as llama.cpp
 * tokenizes it, run by {@link HfTokenizer}: this class only writes the tokenizer.json that says the same thing.
 *
 * <ul>
 *   <li>{@code tokens} (in GPT-2's byte alphabet) and {@code merges} ("a b", by rank) are the BPE model; no
 *       normalizer (llama.cpp applies none, even where the Hugging Face file has NFC).</li>
 *   <li>{@code token_type} CONTROL and USER_DEFINED tokens are added tokens, matched in the text first (longest
 *       first; llama-tokenize parses special-token text); CONTROL ones are special (left out when decoding).
 *       Tokens llama.cpp makes CONTROL by their text count as CONTROL ({@link ControlLookingTokens}).</li>
 *   <li>{@code pre} picks llama.cpp's split regex and rules: {@code llama-bpe} (Llama 3: digits in threes,
 *       a piece that is a token is not merged) and {@code qwen2} (single digits); another value is refused.</li>
 *   <li>{@code add_bos_token} defaults as llama.cpp's per-{@code pre} default (Llama 3 yes, Qwen no);
 *       {@code add_eos_token} defaults to no. Generation stops at {@code eos_token_id} and at llama.cpp's
 *       other end-of-generation tokens (end of turn, {@code <|eot_id|>}, {@code <|im_end|>}...). {@code tokenizer.chat_template} is the chat template.</li>
 * </ul>
 */
final class GgufBpeVocabulary {
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;

    /** llama.cpp's split rules for one family of {@code tokenizer.ggml.pre} values. */
    private record PreRules(String regex, boolean ignoreMerges, boolean addBos) {}

    // llama.cpp's forms of the tokenizer.json regexes: contractions case-insensitive in ASCII only
    private static final PreRules LLAMA3 = new PreRules("(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            true, true);
    private static final PreRules QWEN2 = new PreRules("(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            false, false);
    private static final Map<String, PreRules> PRE = Map.of("llama-bpe", LLAMA3, "llama3", LLAMA3, "llama-v3", LLAMA3,
            "qwen2", QWEN2, "deepseek-r1-qwen", QWEN2);

    private GgufBpeVocabulary() {}

    /**
     * @throws UnsupportedOperationException for a {@code tokenizer.ggml.pre} this release does not know
     * @throws IllegalArgumentException when the arrays are missing or inconsistent
     */
    static HfTokenizer tokenizer(GgufMetadata m, List<String> tokens) {
        String pre = m.optionalString("tokenizer.ggml.pre").orElse(null);
        PreRules rules = pre == null ? null : PRE.get(pre);
        if (rules == null) {
            throw new UnsupportedOperationException("tokenizer.ggml.pre " + (pre == null ? "is missing" : pre
                    + " is not supported") + " (byte-level BPE vocabularies supported: llama-bpe (Llama 3), qwen2"
                    + " (Qwen2/3))");
        }
        int vocab = tokens.size();
        int[] types = m.has("tokenizer.ggml.token_type") ? m.ints("tokenizer.ggml.token_type") : new int[vocab];
        if (types.length != vocab) {
            throw new IllegalArgumentException("tokenizer.ggml.tokens has " + vocab + " entries but token_type has "
                    + types.length);
        }
        ControlLookingTokens.Found forced = ControlLookingTokens.find(m, tokens);
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode json = f.objectNode();
        ArrayNode added = json.putArray("added_tokens");
        ObjectNode vocabulary = f.objectNode();
        for (int id = 0; id < vocab; id++) {
            String token = tokens.get(id);
            vocabulary.put(token, id);
            boolean control = types[id] == CONTROL || forced.control().contains(id);
            if (control || types[id] == USER_DEFINED) {
                added.addObject().put("id", id).put("content", token).put("special", control)
                        .put("normalized", false);
            }
        }
        json.putNull("normalizer");
        ArrayNode steps = json.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers");
        ObjectNode split = steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false);
        split.putObject("pattern").put("Regex", rules.regex());
        steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
        ObjectNode model = json.putObject("model").put("type", "BPE").put("ignore_merges", rules.ignoreMerges());
        model.set("vocab", vocabulary);
        ArrayNode merges = model.putArray("merges");
        for (String merge : m.strings("tokenizer.ggml.merges")) {
            merges.add(merge);
        }
        json.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);

        int bos = id(m, "bos", vocab);
        int eos = id(m, "eos", vocab);
        boolean addBos = bos >= 0 && m.bool("tokenizer.ggml.add_bos_token", rules.addBos());
        boolean addEos = eos >= 0 && m.bool("tokenizer.ggml.add_eos_token", false);
        json.set("post_processor", template(f, addBos ? bos : -1, addEos ? eos : -1));

        ObjectNode config = f.objectNode();
        if (bos >= 0) {
            config.put("bos_token", tokens.get(bos));
        }
        m.optionalString("tokenizer.chat_template").ifPresent(t -> config.put("chat_template", t));
        ObjectNode generation = f.objectNode();
        ArrayNode stops = generation.putArray("eos_token_id");
        if (eos >= 0) {
            stops.add(eos);
        }
        forced.endOfGeneration().stream().filter(id -> id != eos).forEach(stops::add);
        return HfTokenizer.fromDocuments(json, config, generation);
    }

    /** A TemplateProcessing post-processor putting {@code bos} before and {@code eos} after (-1: none). */
    private static JsonNode template(JsonNodeFactory f, int bos, int eos) {
        ObjectNode node = f.objectNode().put("type", "TemplateProcessing");
        ArrayNode single = node.putArray("single");
        ObjectNode specials = node.putObject("special_tokens");
        if (bos >= 0) {
            single.addObject().putObject("SpecialToken").put("id", "bos");
            specials.putObject("bos").putArray("ids").add(bos);
        }
        single.addObject().putObject("Sequence").put("id", "A");
        if (eos >= 0) {
            single.addObject().putObject("SpecialToken").put("id", "eos");
            specials.putObject("eos").putArray("ids").add(eos);
        }
        return node;
    }

    private static int id(GgufMetadata m, String which, int vocab) {
        long id = m.optionalInteger("tokenizer.ggml." + which + "_token_id").orElse(-1);
        return id >= 0 && id < vocab ? (int) id : -1;
    }
}
