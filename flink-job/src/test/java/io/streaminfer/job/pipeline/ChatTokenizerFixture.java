package io.streaminfer.job.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Hugging Face tokenizer directory for the 512-token test models (stories260K's vocabulary shape): tokenizer.json
 * with {@code <unk> <s> </s>}, the 256 byte tokens at 3..258 (llama2.c's ids for them), plain pieces
 * {@code p259}..{@code p509}, and the added specials {@code <|im_start|>} (510) and {@code <|im_end|>} (511);
 * no merges, so text encodes byte by byte and the prompt's tokens are easy to predict. tokenizer_config.json
 * holds a ChatML chat template that refuses a conversation starting with the assistant and reads
 * {@code enable_thinking}, and the EOS token.
 */
final class ChatTokenizerFixture {
    static final int VOCABULARY = 512;
    static final int IM_START = 510;
    static final int IM_END = 511;
    static final String TEMPLATE = "{% if messages[0]['role'] == 'assistant' %}"
            + "{{ raise_exception('The conversation must start with a user or system message') }}{% endif %}"
            + "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
            + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
            + "{% if enable_thinking is defined and enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}"
            + "{% endif %}";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatTokenizerFixture() {}

    /**
     * @param stopPiece a piece id (259..509) to turn into the added special {@code <|stop|>} and make the EOS
     *     token, or -1 to keep the pieces and make {@code <|im_end|>} the EOS token
     */
    static Path write(Path dir, int stopPiece) throws IOException {
        Files.createDirectories(dir);
        ObjectNode root = JSON.createObjectNode();
        ObjectNode vocab = JSON.createObjectNode();
        vocab.put("<unk>", 0).put("<s>", 1).put("</s>", 2);
        for (int b = 0; b < 256; b++) {
            vocab.put(String.format("<0x%02X>", b), 3 + b);
        }
        for (int id = 259; id < IM_START; id++) {
            vocab.put(id == stopPiece ? "<|stop|>" : "p" + id, id);
        }
        vocab.put("<|im_start|>", IM_START).put("<|im_end|>", IM_END);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").put("unk_token", "<unk>").put("byte_fallback", true);
        model.set("vocab", vocab);
        model.putArray("merges");
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", 0).put("content", "<unk>").put("special", true).put("normalized", false);
        added.addObject().put("id", IM_START).put("content", "<|im_start|>").put("special", true).put("normalized", false);
        added.addObject().put("id", IM_END).put("content", "<|im_end|>").put("special", true).put("normalized", false);
        if (stopPiece >= 0) {
            added.addObject().put("id", stopPiece).put("content", "<|stop|>").put("special", true).put("normalized", false);
        }
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        root.set("decoder", JSON.readTree("{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"}]}"));
        JSON.writeValue(dir.resolve("tokenizer.json").toFile(), root);
        ObjectNode config = JSON.createObjectNode();
        config.put("chat_template", TEMPLATE).put("eos_token", stopPiece >= 0 ? "<|stop|>" : "<|im_end|>");
        config.putNull("bos_token");
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
        return dir;
    }

    /** The tokens ChatML gives one user message with the generation prompt, predicted by hand: specials and bytes. */
    static int[] userTurnTokens(String content) {
        java.util.List<Integer> ids = new java.util.ArrayList<>();
        ids.add(IM_START);
        bytes(ids, "user\n" + content);
        ids.add(IM_END);
        bytes(ids, "\n");
        ids.add(IM_START);
        bytes(ids, "assistant\n");
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void bytes(java.util.List<Integer> ids, String text) {
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            ids.add(3 + (b & 0xFF));
        }
    }
}
