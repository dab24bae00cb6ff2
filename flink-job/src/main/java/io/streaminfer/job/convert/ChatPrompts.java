package io.streaminfer.job.convert;

import io.streaminfer.engine.InvalidRequestException;
import io.streaminfer.engine.ModelDescription;
import io.streaminfer.model.TextTokenizer;
import io.streaminfer.model.chat.ChatMessage;
import io.streaminfer.model.chat.ChatTemplate;
import io.streaminfer.model.chat.ChatTemplateException;
import io.streaminfer.schemas.Message;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A record's {@code messages} become prompt text and tokens, as Hugging Face's
 * {@code apply_chat_template(messages, add_generation_prompt=True, tokenize=True, **chat_template_kwargs)} makes
 * them: the model's chat template renders the conversation and the generation prompt, and the text is encoded
 * without the tokenizer's added specials (the template writes BOS itself when the model wants one). A model
 * without a chat template, or whose template does not parse, refuses every conversation with the reason.
 *
 * <p>Immutable and thread-safe (templates and tokenizers are). Not serializable: built in {@code open()}.
 */
public final class ChatPrompts {
    /** A conversation rendered: the prompt text, its tokens, and the target's when scoring (else null). */
    public record Rendered(String text, int[] tokenIds, int[] targetTokenIds) {}

    private final ChatTemplate template;
    private final TextTokenizer tokenizer;
    private final String unavailable; // why conversations cannot be rendered, or null

    private ChatPrompts(ChatTemplate template, TextTokenizer tokenizer, String unavailable) {
        this.template = template;
        this.tokenizer = tokenizer;
        this.unavailable = unavailable;
    }

    /** The chat template of {@code model}, read from its tokenizer_config.json; never throws. */
    public static ChatPrompts load(ModelDescription model, TextTokenizer tokenizer) {
        if (tokenizer == null) {
            return unavailable("model \"" + model.modelName() + "\" has no tokenizer: send prompt_token_ids");
        }
        try {
            ChatTemplate template = model.loadChatTemplate();
            if (template == null) {
                return unavailable("model \"" + model.modelName() + "\" has no chat template ("
                        + (model.tokenizerConfigPath() == null ? "its tokenizer " + model.tokenizerPath()
                        + " is not a Hugging Face tokenizer.json with a tokenizer_config.json, nor a GGUF file with one"
                        : "no chat_template in " + model.tokenizerConfigPath()) + "): send prompt instead of messages");
            }
            return new ChatPrompts(template, tokenizer, null);
        } catch (ChatTemplateException | IOException | java.io.UncheckedIOException e) {
            return unavailable("model \"" + model.modelName() + "\" cannot render messages: " + e.getMessage());
        }
    }

    /** Conversations rendered with {@code template}, encoded by {@code tokenizer}. */
    public static ChatPrompts of(ChatTemplate template, TextTokenizer tokenizer) {
        return new ChatPrompts(template, tokenizer, null);
    }

    private static ChatPrompts unavailable(String reason) {
        return new ChatPrompts(null, null, reason);
    }

    /**
     * @param kwargs more template variables (booleans, numbers, strings, null), or null
     * @param target the text to score after the generation prompt, or null; its tokens are those of the rendered
     *     prompt and target encoded together, past their longest common prefix with the prompt's (as scoring a
     *     plain prompt splits them)
     * @throws InvalidRequestException naming why the conversation cannot become a prompt
     */
    public Rendered render(List<Message> messages, Map<String, Object> kwargs, String target) {
        if (unavailable != null) {
            throw new InvalidRequestException(unavailable);
        }
        if (messages.isEmpty()) {
            throw new InvalidRequestException("messages must not be empty");
        }
        Map<String, Object> variables = kwargs == null ? Map.of() : kwargs;
        for (String reserved : List.of("messages", "add_generation_prompt")) {
            if (variables.containsKey(reserved)) {
                throw new InvalidRequestException("chat_template_kwargs must not set \"" + reserved + "\"");
            }
        }
        List<ChatMessage> conversation = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            Message m = messages.get(i);
            if (m == null || m.getRole() == null || m.getRole().isEmpty()) {
                throw new InvalidRequestException("messages[" + i + "] needs a role");
            }
            conversation.add(ChatMessage.of(m.getRole(), m.getContent()));
        }
        String text;
        try {
            text = template.render(conversation, true, variables);
        } catch (ChatTemplateException e) {
            throw new InvalidRequestException(e.getMessage());
        }
        int[] prompt = tokenizer.encode(text, false);
        if (target == null || target.isEmpty()) {
            return new Rendered(text, prompt, null); // an empty target is refused where a text prompt's is
        }
        int[] joint = tokenizer.encode(text + target, false);
        int common = 0;
        while (common < prompt.length && common < joint.length - 1 && prompt[common] == joint[common]) {
            common++;
        }
        return new Rendered(text, Arrays.copyOf(joint, common), Arrays.copyOfRange(joint, common, joint.length));
    }
}
