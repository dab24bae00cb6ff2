package io.streaminfer.job.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.job.TestModels;
import io.streaminfer.model.TextTokenizer;
import io.streaminfer.schemas.PromptRecord;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The scoring rule and the size rule, with the model's own tokenizer. */
class ScoringAndSizeRulesTest {
    private final TestModels.Model files = TestModels.stories260KOrSynthetic();
    private final ModelDescription model;
    private final TextTokenizer tokenizer;
    private final PromptValidator validator;

    ScoringAndSizeRulesTest() throws Exception {
        model = ModelDescription.load(ReplicaConfig.defaults(files.checkpoint().toString(), files.tokenizer().toString(), 1));
        tokenizer = model.loadTokenizer();
        validator = new PromptValidator(model, tokenizer);
    }

    private GenerationRequest valid(PromptRecord record) {
        ValidationResult result = validator.validate(record);
        assertTrue(result.isValid(), result::reason);
        return result.request();
    }

    @Test
    void theSameTextScoresTheSameAsTextOrAsTokenIds() {
        for (String[] pair : List.of(new String[] {"Once upon a time", ", there was a little girl"},
                new String[] {"The little dog", " ran"}, new String[] {"Tom had a big red ball", "."})) {
            GenerationRequest fromText = valid(PromptRecord.newBuilder().setId("t").setPrompt(pair[0]).setTarget(pair[1]).build());
            List<Integer> ids = Arrays.stream(tokenizer.encode(pair[0], true)).boxed().toList();
            GenerationRequest fromIds = valid(PromptRecord.newBuilder().setId("i").setPromptTokenIds(ids).setTarget(pair[1]).build());
            // the same tokens are fed and scored, so the score (a function of them) is the same
            assertArrayEquals(fromText.promptTokenIds(), fromIds.promptTokenIds(), pair[0]);
            assertArrayEquals(fromText.targetTokenIds(), fromIds.targetTokenIds(), pair[1]);
        }
    }

    @Test
    void anEmptyTargetIsRefusedEitherWay() {
        for (PromptRecord r : List.of(PromptRecord.newBuilder().setId("t").setPrompt("Tom").setTarget("").build(),
                PromptRecord.newBuilder().setId("i").setPromptTokenIds(List.of(1, 5)).setTarget("").build())) {
            ValidationResult result = validator.validate(r);
            assertFalse(result.isValid());
            assertTrue(result.reason().startsWith("the target is empty"), result.reason());
        }
    }

    /** Correctness, not a benchmark: the bounds are generous, a quadratic path would miss them by far. */
    @Test
    void largePromptsAreAnsweredAtOnce() {
        long start = System.nanoTime();
        ValidationResult huge = validator.validate(PromptRecord.newBuilder().setId("h").setPrompt("x".repeat(2 << 20)).build());
        assertFalse(huge.isValid());
        assertTrue(huge.reason().contains("refused before tokenizing"), huge.reason());
        // under the byte limit: tokenized (linear), then refused by its token count
        int limit = io.streaminfer.engine.RequestPreparation.MAX_BYTES_PER_TOKEN * (model.contextLength() + 1);
        ValidationResult large = validator.validate(PromptRecord.newBuilder().setId("l")
                .setPrompt("Once upon a time, ".repeat(limit / 18)).build());
        assertFalse(large.isValid());
        assertTrue(large.reason().startsWith("prompt takes"), large.reason());
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        assertTrue(seconds < 30, "two large prompts took " + seconds + " s");
    }
}
