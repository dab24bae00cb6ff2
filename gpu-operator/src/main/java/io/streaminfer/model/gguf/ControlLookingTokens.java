package io.streaminfer.model.gguf;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tokens llama.cpp treats as CONTROL by their text whatever {@code token_type} says (it warns "control-looking
 * token ... was not control-type"), and the end-of-generation ids it derives from them. Qwen2's vocabulary, for
 * one, has {@code </s>} as a NORMAL token that llama-tokenize then matches in the text as one token.
 *
 * <p>Three groups, as llama.cpp's vocabulary loader has them: texts that always end generation; the first
 * end-of-turn / end-of-message text, unless the file names that id ({@code eot_token_id}, {@code eom_token_id});
 * and the first text of each fill-in-the-middle role, unless the file names it ({@code fim_pre_token_id}...);
 * the pad, repo and file-separator roles end generation too. "First" is taken as the lowest id.
 */
final class ControlLookingTokens {
    private static final Set<String> END_OF_GENERATION = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>",
            "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
            "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
            "<|tool_response>", "<\uff5cend\u2581of\u2581sentence\uff5c>", "[e~[");

    /** A role found by its first matching text when the file does not name its id. */
    private record Role(String key, boolean endsGeneration, Set<String> texts) {}

    private static final List<Role> ROLES = List.of(
            new Role("eot", true, Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                    "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<\uff5cend\u2581of\u2581sentence\uff5c>",
                    "<end_of_utterance>")),
            new Role("eom", true, Set.of("<|eom_id|>")),
            new Role("fim_pre", false, Set.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
                    "<\uff5cfim\u2581begin\uff5c>", "<PRE>", "\u2581<PRE>", "<|code_prefix|>", "<|prefix|>")),
            new Role("fim_suf", false, Set.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                    "<\uff5cfim\u2581hole\uff5c>", "<SUF>", "\u2581<SUF>", "<|code_suffix|>", "<|suffix|>")),
            new Role("fim_mid", false, Set.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                    "<\uff5cfim\u2581end\uff5c>", "<MID>", "\u2581<MID>", "<|code_middle|>", "<|middle|>")),
            new Role("fim_pad", true, Set.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]")),
            new Role("fim_rep", true, Set.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>")),
            new Role("fim_sep", true, Set.of("<|file_sep|>")));

    /** Ids made CONTROL, and ids that end generation (besides EOS), in id order. */
    record Found(Set<Integer> control, Set<Integer> endOfGeneration) {}

    private ControlLookingTokens() {}

    static Found find(GgufMetadata m, List<String> tokens) {
        Set<Integer> control = new LinkedHashSet<>();
        Set<Integer> stops = new LinkedHashSet<>();
        Map<Role, Integer> firstOfRole = new java.util.LinkedHashMap<>();
        for (int id = 0; id < tokens.size(); id++) {
            String text = tokens.get(id);
            if (END_OF_GENERATION.contains(text)) {
                control.add(id);
                stops.add(id);
            }
            for (Role role : ROLES) {
                if (role.texts().contains(text) && !m.has("tokenizer.ggml." + role.key() + "_token_id")) {
                    firstOfRole.putIfAbsent(role, id);
                }
            }
        }
        firstOfRole.forEach((role, id) -> {
            control.add(id);
            if (role.endsGeneration()) {
                stops.add(id);
            }
        });
        for (Role role : ROLES) {
            long named = m.optionalInteger("tokenizer.ggml." + role.key() + "_token_id").orElse(-1);
            if (role.endsGeneration() && named >= 0 && named < tokens.size()) {
                stops.add((int) named);
            }
        }
        return new Found(control, stops);
    }
}
