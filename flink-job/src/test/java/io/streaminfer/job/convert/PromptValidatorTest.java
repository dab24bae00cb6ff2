package io.streaminfer.job.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.SamplingParams;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.TextTokenizer;
import io.streaminfer.schemas.Message;
import io.streaminfer.schemas.PromptRecord;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class PromptValidatorTest {
    /** One token per character (its code) plus BOS: a stand-in tokenizer that makes lengths easy to reason about. */
    static class CharTokenizer implements TextTokenizer {
        @Override
        public int vocabularySize() {
            return 512;
        }

        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            int[] ids = new int[text.length() + (addSpecialTokens ? 1 : 0)];
            int n = 0;
            if (addSpecialTokens) {
                ids[n++] = 1;
            }
            for (char c : text.toCharArray()) {
                ids[n++] = c;
            }
            return ids;
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder text = new StringBuilder();
            for (int id : ids) {
                if (id != 1) { // BOS renders as nothing
                    text.append((char) id);
                }
            }
            return text.toString();
        }

        @Override
        public StreamDecoder streamDecoder(int[] context) {
            throw new UnsupportedOperationException();
        }
    }

    /** A model of 512 tokens whose replicas give each sequence 16 positions. */
    static ModelDescription model(int context) {
        return new ModelDescription("stories260K", ModelConfig.llama2c(8, 16, 1, 2, 2, 512, 16, true), context, null);
    }

    private final PromptValidator validator = new PromptValidator(model(16), new CharTokenizer());

    private static PromptRecord.Builder base() {
        return PromptRecord.newBuilder().setId("req-1").setPrompt("Once");
    }

    private String reasonFor(Consumer<PromptRecord.Builder> edit) {
        PromptRecord.Builder b = base();
        edit.accept(b);
        ValidationResult r = validator.validate(b.build());
        assertFalse(r.isValid(), "expected a rejection");
        assertNull(r.request());
        return r.reason();
    }

    @Test
    void appliesDefaults() {
        ValidationResult r = validator.validate(base().build());
        assertTrue(r.isValid(), r.reason());
        GenerationRequest req = r.request();
        SamplingParams p = req.params();
        assertEquals("req-1", req.id());
        assertEquals("Once", req.prompt());
        assertArrayEquals(new int[] {1, 'O', 'n', 'c', 'e'}, req.promptTokenIds(), "tokenized once, here");
        assertNull(req.targetTokenIds());
        assertEquals(256, p.maxTokens());
        assertEquals(1.0f, p.temperature());
        assertEquals(1.0f, p.topP());
        assertEquals(0, p.topK());
        assertEquals(SeedDerivation.seedFromId("req-1"), p.seed());
        assertEquals(List.of(), p.stop());
        assertFalse(p.logprobs());
    }

    @Test
    void keepsGivenParameters() {
        PromptRecord rec = PromptRecord.newBuilder().setId("x").setPromptTokenIds(List.of(1, 300, 7)).setTarget("end")
                .setMaxTokens(5).setTemperature(0f).setTopP(0.5f).setTopK(3).setSeed(99L).setStop(List.of("."))
                .setLogprobs(true).setModel("stories260K").build();
        GenerationRequest req = validator.validate(rec).request();
        assertArrayEquals(new int[] {1, 300, 7}, req.promptTokenIds());
        assertEquals("end", req.target());
        assertArrayEquals(new int[] {'e', 'n', 'd'}, req.targetTokenIds());
        assertEquals(new SamplingParams(0f, 0.5f, 3, 5, 99L, List.of("."), true), req.params());
    }

    @Test
    void seedFromIdIsFnv1a64() {
        // Published FNV-1a 64 test vectors: "" and "a".
        assertEquals(0xcbf29ce484222325L, SeedDerivation.seedFromId(""));
        assertEquals(0xaf63dc4c8601ec8cL, SeedDerivation.seedFromId("a"));
        assertNotEquals(SeedDerivation.seedFromId("req-1"), SeedDerivation.seedFromId("req-2"));
    }

    @Test
    void namesEachReason() {
        assertEquals("id must not be empty or blank, got \"\"", reasonFor(b -> b.setId("")));
        assertTrue(reasonFor(b -> b.setPrompt(null)).startsWith("missing prompt"));
        assertTrue(reasonFor(b -> b.setPromptTokenIds(List.of(1))).contains("only one of"));
        assertTrue(reasonFor(b -> b.setTemperature(-0.1f)).startsWith("temperature"));
        assertTrue(reasonFor(b -> b.setTemperature(Float.NaN)).startsWith("temperature"));
        assertTrue(reasonFor(b -> b.setTopP(0f)).startsWith("top_p"));
        assertTrue(reasonFor(b -> b.setTopP(1.01f)).startsWith("top_p"));
        assertTrue(reasonFor(b -> b.setMaxTokens(0)).startsWith("max_tokens"));
        assertTrue(reasonFor(b -> b.setTopK(-1)).startsWith("top_k"));
        assertTrue(reasonFor(b -> b.setModel("llama-70b")).contains("\"llama-70b\" is not the loaded model"));
        assertTrue(reasonFor(b -> b.setStop(List.of(""))).startsWith("stop"));
        assertTrue(reasonFor(b -> b.setPrompt(null).setPromptTokenIds(List.of())).contains("must not be empty"));
        assertTrue(reasonFor(b -> b.setPrompt(null).setPromptTokenIds(List.of(1, -2))).contains("prompt_token_ids[1]"));
    }

    /** A ChatML-like template that refuses a conversation not starting with a user or system turn. */
    private static final String TEMPLATE = "{% if messages[0]['role'] == 'assistant' %}"
            + "{{ raise_exception('Conversations must start with a user turn') }}{% endif %}"
            + "{% for m in messages %}{{ '[' if m['role'] == 'user' else '(' }}{{ m['content'] }}{% endfor %}"
            + "{% if add_generation_prompt %}A{{ 'T' if enable_thinking is defined and enable_thinking else '' }}"
            + "{% endif %}";

    private final PromptValidator chatValidator = new PromptValidator(model(16), new CharTokenizer(),
            ChatPrompts.of(io.streaminfer.model.chat.ChatTemplate.of(TEMPLATE, null, null), new CharTokenizer()));

    @Test
    void messagesAreRenderedWithTheChatTemplateAndEncodedWithoutAddedSpecials() {
        PromptRecord rec = PromptRecord.newBuilder().setId("c")
                .setMessages(List.of(new Message("system", "S"), new Message("user", "Hi"))).build();
        GenerationRequest req = chatValidator.validate(rec).request();
        assertEquals("(S[HiA", req.prompt(), "the generation prompt is added");
        assertArrayEquals("(S[HiA".chars().toArray(), req.promptTokenIds(), "no BOS of the tokenizer's");
        java.util.Map<String, Object> thinking = new java.util.HashMap<>(java.util.Map.of("enable_thinking", true));
        assertEquals("[HiAT", chatValidator.validate(PromptRecord.newBuilder().setId("t")
                .setMessages(List.of(new Message("user", "Hi"))).setChatTemplateKwargs(thinking).build()).request().prompt());
        GenerationRequest scored = chatValidator.validate(PromptRecord.newBuilder(rec).setTarget("Yo").build()).request();
        assertArrayEquals(new int[] {'Y', 'o'}, scored.targetTokenIds(), "the target follows the generation prompt");
        assertArrayEquals(req.promptTokenIds(), scored.promptTokenIds());
        String empty = chatValidator.validate(PromptRecord.newBuilder(rec).setTarget("").build()).reason();
        assertTrue(empty != null && empty.startsWith("the target is empty"),
                "an empty target is refused as for a text prompt, not the generation prompt's last token scored: " + empty);
    }

    @Test
    void conversationsThatCannotBeRenderedAreRefusedWithTheReason() {
        String raised = chatValidator.validate(PromptRecord.newBuilder().setId("c")
                .setMessages(List.of(new Message("assistant", "Hello"))).build()).reason();
        assertEquals("the chat template refused the conversation: Conversations must start with a user turn", raised);
        assertTrue(chatValidator.validate(PromptRecord.newBuilder().setId("c").setMessages(List.of()).build()).reason()
                .contains("messages must not be empty"));
        assertTrue(chatValidator.validate(PromptRecord.newBuilder().setId("c").setMessages(List.of(new Message("user", "x")))
                .setChatTemplateKwargs(java.util.Map.of("messages", "x")).build()).reason().contains("must not set"));
        // The test model has no tokenizer_config.json, so no chat template: say so and what to send instead.
        String none = reasonFor(b -> b.setPrompt(null).setMessages(List.of(new Message("user", "Hi"))));
        assertTrue(none.contains("has no chat template") && none.contains("send prompt"), none);
        assertTrue(reasonFor(b -> b.setMessages(List.of(new Message("user", "Hi")))).contains("only one of"));
        assertTrue(reasonFor(b -> b.setChatTemplateKwargs(java.util.Map.of("a", true))).contains("needs messages"));
    }

    @Test
    void nIsCappedByMaxNAndRefusedWithATarget() {
        assertTrue(reasonFor(b -> b.setN(0)).startsWith("n must be >= 1"));
        assertTrue(reasonFor(b -> b.setN(-3)).startsWith("n must be >= 1"));
        assertEquals("n = 17 is above the most samples per prompt, --max-n 16", reasonFor(b -> b.setN(17)));
        assertTrue(validator.validate(base().setN(16).build()).isValid());
        assertTrue(validator.validate(base().setN(1).build()).isValid());
        PromptValidator capped = new PromptValidator(model(16), new CharTokenizer(), 3);
        assertTrue(capped.validate(base().setN(3).build()).isValid());
        assertTrue(capped.validate(base().setN(4).build()).reason().contains("--max-n 3"));
        assertTrue(reasonFor(b -> b.setN(2).setTarget("x")).contains("a target is scored, once"));
        assertThrows(IllegalArgumentException.class, () -> new PromptValidator(model(16), new CharTokenizer(), 0));
    }

    @Test
    void idsMayNotHoldTheSampleSeparator() {
        assertTrue(reasonFor(b -> b.setId("a" + Samples.SEPARATOR + "1")).contains("U+001F"));
    }

    @Test
    void rejectsPromptsTheContextCannotHoldByTheEnginesRule() {
        // 15 chars + BOS = 16 tokens fill the context of 16: the token predicted at its last position is
        // generated (run.c's rule, and the replica's). One more does not fit.
        assertTrue(validator.validate(base().setPrompt("a".repeat(15)).build()).isValid());
        assertTrue(reasonFor(b -> b.setPrompt("a".repeat(16))).contains("takes 17 tokens"));
        assertTrue(validator.validate(base().setPrompt(null).setPromptTokenIds(java.util.Collections.nCopies(16, 5))
                .build()).isValid());
        assertTrue(reasonFor(b -> b.setPrompt(null).setPromptTokenIds(java.util.Collections.nCopies(17, 5)))
                .contains("takes 17 tokens"));
        // Scoring feeds all but the last target token: prompt (5) + target (12) = 17 fits; one more does not.
        assertTrue(validator.validate(base().setTarget("a".repeat(12)).build()).isValid());
        assertTrue(reasonFor(b -> b.setTarget("a".repeat(13))).contains("prompt and target take 18"));
        // The replica's context, not the model's: a description of 8 positions refuses a 9-token prompt.
        PromptValidator small = new PromptValidator(model(8), new CharTokenizer());
        assertTrue(small.validate(base().setPrompt("a".repeat(7)).build()).isValid());
        assertFalse(small.validate(base().setPrompt("a".repeat(8)).build()).isValid());
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreRefusedHere() {
        assertTrue(reasonFor(b -> b.setPrompt(null).setPromptTokenIds(List.of(1, 512))).contains("vocabulary"));
    }

    @Test
    void aFailingTokenizerStillGivesOneAnswer() {
        PromptValidator broken = new PromptValidator(model(16), new CharTokenizer() {
            @Override
            public int[] encode(String text, boolean addSpecialTokens) {
                throw new IllegalStateException("tokenizer exploded");
            }
        });
        ValidationResult r = broken.validate(base().build());
        assertFalse(r.isValid());
        assertTrue(r.reason().contains("tokenizer exploded"), r.reason());
    }

    @Test
    void checksItsOwnArguments() {
        assertThrows(IllegalArgumentException.class, () -> new PromptValidator(model(1), new CharTokenizer()));
        assertThrows(IllegalArgumentException.class, () -> new ValidationResult(null, null));
    }
}
