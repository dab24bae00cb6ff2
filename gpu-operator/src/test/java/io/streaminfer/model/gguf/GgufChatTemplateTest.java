package io.streaminfer.model.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.streaminfer.engine.ModelDescription;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.chat.ChatMessage;
import io.streaminfer.model.gguf.GgufMetadata.ValueType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A GGUF file's tokenizer.chat_template is the model's chat template, with its BOS and EOS tokens' text. */
class GgufChatTemplateTest {
    @TempDir
    Path dir;

    private static ModelDescription describe(Path tokenizer) {
        return new ModelDescription("m", ModelConfig.llama2c(8, 16, 1, 2, 2, 32, 16, true), 16, tokenizer.toString());
    }

    private static GgufWriter vocabulary() {
        return new GgufWriter().string("general.architecture", "llama").string("tokenizer.ggml.model", "llama")
                .array("tokenizer.ggml.tokens", ValueType.STRING, List.of("<unk>", "<s>", "</s>", "a"))
                .u32("tokenizer.ggml.bos_token_id", 1).u32("tokenizer.ggml.eos_token_id", 2);
    }

    @Test
    void theFilesTemplateRendersWithItsSpecialTokens() throws IOException {
        Path file = vocabulary().string("tokenizer.chat_template",
                "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}{{ eos_token }}{% endfor %}"
                        + "{% if add_generation_prompt %}[assistant] {% endif %}").write(dir.resolve("chat.gguf"));
        assertEquals("<s>[user] Hi</s>[assistant] ",
                describe(file).loadChatTemplate().render(List.of(ChatMessage.user("Hi")), true));
    }

    @Test
    void aFileWithoutATemplateHasNone() throws IOException {
        assertNull(describe(vocabulary().write(dir.resolve("plain.gguf"))).loadChatTemplate());
    }
}
