package io.streaminfer.job.convert;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.InvalidRequestException;
import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.RequestPreparation;
import io.streaminfer.engine.SamplingParams;
import io.streaminfer.model.TextTokenizer;
import io.streaminfer.schemas.Message;
import io.streaminfer.schemas.PromptRecord;
import java.util.List;
import java.util.Objects;

/**
 * The one place where a PromptRecord becomes a {@link GenerationRequest}, or the reason it cannot run.
 * Every input gives exactly one of the two; nothing throws. The record's fields are checked here; its
 * {@code messages} are rendered with the model's chat template ({@link ChatPrompts}); its
 * prompt (and target) are tokenized once, by the engine's {@link RequestPreparation}, which also applies
 * the one length rule with the replica's context: the request carries its token ids to the replica, which
 * does not tokenize again, and a prompt too long for the context is refused here, with the engine's words,
 * whichever path it came by. Defaults for absent sampling fields: max_tokens 256, temperature 1.0, top_p
 * 1.0, top_k 0 (off), seed {@link SeedDerivation#seedFromId(String)}, no stops, no logprobs. A record
 * asking for n > 1 samples (at most {@code --max-n}) gives one request here, which {@link Samples#fanOut}
 * turns into n.
 *
 * <p>Not serializable (it holds the tokenizer): build one per subtask, e.g. in {@code open()}.
 */
public final class PromptValidator {
    public static final int DEFAULT_MAX_TOKENS = 256;
    public static final float DEFAULT_TEMPERATURE = 1.0f;
    public static final float DEFAULT_TOP_P = 1.0f;
    public static final int DEFAULT_TOP_K = 0;
    /** Default of {@code --max-n}, the most samples one prompt may ask for. */
    public static final int DEFAULT_MAX_N = 16;

    private final String modelName;
    private final RequestPreparation preparation;
    private final ChatPrompts chat;
    private final int maxN;

    /**
     * A validator that renders {@code messages} with the model's own chat template (read here from its
     * tokenizer_config.json; a model without one refuses conversations, naming why).
     *
     * @param model the loaded model's facts: its name (a record naming another model is rejected), vocabulary
     *     and the context each sequence gets
     * @param tokenizer the model's tokenizer, loaded from {@code model}; null refuses text prompts
     */
    public PromptValidator(ModelDescription model, TextTokenizer tokenizer) {
        this(model, tokenizer, ChatPrompts.load(Objects.requireNonNull(model, "model"), tokenizer));
    }

    /** As the first, refusing records that ask for more than {@code maxN} samples ({@code --max-n}). */
    public PromptValidator(ModelDescription model, TextTokenizer tokenizer, int maxN) {
        this(model, tokenizer, ChatPrompts.load(Objects.requireNonNull(model, "model"), tokenizer), maxN);
    }

    /** As above, rendering {@code messages} with {@code chat}. */
    public PromptValidator(ModelDescription model, TextTokenizer tokenizer, ChatPrompts chat) {
        this(model, tokenizer, chat, DEFAULT_MAX_N);
    }

    /** As above, refusing records that ask for more than {@code maxN} samples ({@code --max-n}). */
    public PromptValidator(ModelDescription model, TextTokenizer tokenizer, ChatPrompts chat, int maxN) {
        Objects.requireNonNull(model, "model");
        if (maxN < 1) {
            throw new IllegalArgumentException("--max-n must be >= 1, got " + maxN);
        }
        this.maxN = maxN;
        this.chat = Objects.requireNonNull(chat, "chat");
        if (model.contextLength() < 2) {
            throw new IllegalArgumentException("the context must hold at least 2 positions, got "
                    + model.contextLength());
        }
        this.modelName = model.modelName();
        this.preparation = RequestPreparation.of(model, tokenizer);
    }

    public ValidationResult validate(PromptRecord record) {
        try {
            return check(record);
        } catch (RuntimeException e) {
            // The tokenizer or a record invariant failed; still one clear answer for this input.
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return ValidationResult.invalid("cannot run the prompt: " + message);
        }
    }

    private ValidationResult check(PromptRecord r) {
        if (r == null) {
            return ValidationResult.invalid("missing record");
        }
        String id = r.getId();
        if (id == null) {
            return ValidationResult.invalid("missing id");
        }
        if (id.isBlank()) {
            return ValidationResult.invalid("id must not be empty or blank, got \"" + id + "\"");
        }
        String prompt = r.getPrompt();
        List<Integer> ids = r.getPromptTokenIds();
        List<Message> messages = r.getMessages();
        int given = (prompt != null ? 1 : 0) + (ids != null ? 1 : 0) + (messages != null ? 1 : 0);
        if (given == 0) {
            return ValidationResult.invalid("missing prompt: give prompt, prompt_token_ids or messages");
        }
        if (given > 1) {
            return ValidationResult.invalid("give only one of prompt, prompt_token_ids and messages");
        }
        if (r.getChatTemplateKwargs() != null && messages == null) {
            return ValidationResult.invalid("chat_template_kwargs needs messages");
        }
        if (id.indexOf(Samples.SEPARATOR) >= 0) {
            return ValidationResult.invalid("id must not contain the control character U+001F (the job's own"
                    + " separator of sample ids)");
        }
        if (r.getN() < 1) {
            return ValidationResult.invalid("n must be >= 1, got " + r.getN());
        }
        if (r.getN() > maxN) {
            return ValidationResult.invalid("n = " + r.getN() + " is above the most samples per prompt, --max-n "
                    + maxN);
        }
        if (r.getN() > 1 && r.getTarget() != null) {
            return ValidationResult.invalid("n > 1 asks for samples, but a target is scored, once: give n = 1"
                    + " with a target (n = " + r.getN() + ")");
        }
        if (r.getModel() != null && !r.getModel().equals(modelName)) {
            return ValidationResult.invalid("model \"" + r.getModel() + "\" is not the loaded model \"" + modelName + "\"");
        }

        int maxTokens = orDefault(r.getMaxTokens(), DEFAULT_MAX_TOKENS);
        float temperature = orDefault(r.getTemperature(), DEFAULT_TEMPERATURE);
        float topP = orDefault(r.getTopP(), DEFAULT_TOP_P);
        int topK = orDefault(r.getTopK(), DEFAULT_TOP_K);
        if (maxTokens < 1) {
            return ValidationResult.invalid("max_tokens must be >= 1, got " + maxTokens);
        }
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            return ValidationResult.invalid("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            return ValidationResult.invalid("top_p must be within (0, 1], got " + topP);
        }
        if (topK < 0) {
            return ValidationResult.invalid("top_k must be >= 0, got " + topK);
        }
        List<String> stop = r.getStop() == null ? List.of() : r.getStop();
        for (String s : stop) {
            if (s == null || s.isEmpty()) {
                return ValidationResult.invalid("stop strings must not be empty");
            }
        }

        int[] tokenIds = null;
        if (ids != null) {
            if (ids.isEmpty()) {
                return ValidationResult.invalid("prompt_token_ids must not be empty");
            }
            tokenIds = new int[ids.size()];
            for (int i = 0; i < tokenIds.length; i++) {
                Integer t = ids.get(i);
                if (t == null || t < 0) {
                    return ValidationResult.invalid("prompt_token_ids[" + i + "] must be a token id >= 0, got " + t);
                }
                tokenIds[i] = t;
            }
        }

        long seed = r.getSeed() != null ? r.getSeed() : SeedDerivation.seedFromId(id);
        boolean logprobs = Boolean.TRUE.equals(r.getLogprobs());
        SamplingParams params = new SamplingParams(temperature, topP, topK, maxTokens, seed, stop, logprobs);
        try {
            GenerationRequest request;
            if (messages != null) {
                // The request keeps the rendered text for its readers; the replica runs the rendered tokens.
                ChatPrompts.Rendered rendered = chat.render(messages, r.getChatTemplateKwargs(), r.getTarget());
                request = new GenerationRequest(id, rendered.text(), rendered.tokenIds(), r.getTarget(), params,
                        rendered.targetTokenIds());
            } else {
                request = new GenerationRequest(id, prompt, tokenIds, r.getTarget(), params);
            }
            return ValidationResult.valid(preparation.tokenize(request));
        } catch (InvalidRequestException e) {
            return ValidationResult.invalid(e.getMessage());
        }
    }

    private static <T> T orDefault(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
