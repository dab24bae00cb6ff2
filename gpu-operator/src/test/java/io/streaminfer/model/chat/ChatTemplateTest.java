package io.streaminfer.model.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The API: factories, special tokens, refusals, content parts, threads and speed. */
class ChatTemplateTest {
    private static final String MISTRAL = "{{ bos_token }}{% for message in messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}{% endif %}{% endfor %}";

    @Test
    void rendersWithTheSpecialTokensAndTheGenerationPrompt() {
        ChatTemplate template = ChatTemplate.of(MISTRAL, "<s>", "</s>");
        assertEquals("<s>[INST] Hi [/INST]Hello!</s> [INST] Bye [/INST]", template.render(List.of(
                ChatMessage.user("Hi"), ChatMessage.assistant("Hello!"), ChatMessage.user("Bye")), true));
        assertEquals(Map.of("bos_token", "<s>", "eos_token", "</s>"), template.specialTokens());
    }

    @Test
    void aRefusedConversationSaysWhatTheTemplateSaid() {
        ChatTemplate template = ChatTemplate.of(MISTRAL, "<s>", "</s>");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true));
        assertEquals("the chat template refused the conversation: Conversation roles must alternate "
                + "user/assistant/user/assistant/...", e.getMessage());
    }

    @Test
    void readsTokenizerConfigTokensAsStringsOrObjects(@TempDir Path dir) throws IOException {
        Path config = write(dir, "{\"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<B>\"}, \"eos_token\": \"<E>\","
                + " \"pad_token\": null, \"chat_template\": \"{{ bos_token }}{{ messages[0].content }}{{ eos_token }}\"}");
        ChatTemplate template = ChatTemplate.fromTokenizerConfig(config);
        assertEquals("<B>hi<E>", template.render(List.of(ChatMessage.user("hi")), false));
        assertEquals(Map.of("bos_token", "<B>", "eos_token", "<E>"), template.specialTokens());
    }

    @Test
    void picksANamedTemplateFromAList(@TempDir Path dir) throws IOException {
        Path config = write(dir, "{\"chat_template\": [{\"name\": \"default\", \"template\": \"D{{ messages|length }}\"},"
                + " {\"name\": \"tool_use\", \"template\": \"T\"}]}");
        List<ChatMessage> chat = List.of(ChatMessage.user("hi"));
        assertEquals("D1", ChatTemplate.fromTokenizerConfig(config).render(chat, false));
        assertEquals("T", ChatTemplate.fromTokenizerConfig(config, "tool_use").render(chat, false));
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.fromTokenizerConfig(config, "rag"));
        assertTrue(e.getMessage().endsWith("has no chat template named \"rag\"; it has [default, tool_use]"),
                e.getMessage());
    }

    @Test
    void aConfigWithoutATemplateFallsBackToChatTemplateJinjaOrSaysSo(@TempDir Path dir) throws IOException {
        Path config = write(dir, "{\"bos_token\": \"<s>\"}");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> ChatTemplate.fromTokenizerConfig(config));
        assertTrue(e.getMessage().endsWith("has no chat_template: this model cannot render messages; send a prompt"
                + " instead"), e.getMessage());
        Files.writeString(dir.resolve("chat_template.jinja"), "{{ bos_token }}{{ messages[0].content }}\n");
        assertEquals("<s>hi", ChatTemplate.fromTokenizerConfig(config).render(List.of(ChatMessage.user("hi")), false));
    }

    @Test
    void extraVariablesReachTheTemplateButNotOverMessages() {
        ChatTemplate template = ChatTemplate.of("{{ date_string }}{% if enable_thinking is defined and not enable_thinking %}"
                + " no-think{% endif %}", null, null);
        assertEquals("26 Jul 2024 no-think", template.render(List.of(), false,
                Map.of("date_string", "26 Jul 2024", "enable_thinking", false)));
        assertThrows(IllegalArgumentException.class,
                () -> template.render(List.of(), false, Map.of("messages", List.of())));
    }

    @Test
    void textPartsGoAsListsToTemplatesThatReadThemAndJoinedToOthers() {
        List<ChatMessage> chat = List.of(ChatMessage.ofParts("user",
                List.of(ChatMessage.Part.text("Describe"), ChatMessage.Part.text("the sky."))));
        ChatTemplate parts = ChatTemplate.of("{% for m in messages %}{% if m['content'] is string %}{{ m['content'] }}"
                + "{% else %}{% for p in m['content'] %}<{{ p['type'] }}:{{ p['text'] }}>{% endfor %}{% endif %}"
                + "{% endfor %}", null, null);
        assertEquals("<text:Describe><text:the sky.>", parts.render(chat, false));
        ChatTemplate strings = ChatTemplate.of("{% for m in messages %}[{{ m['content'] | trim }}]{% endfor %}", null, null);
        assertEquals("[Describe\nthe sky.]", strings.render(chat, false));
    }

    @Test
    void aPartOtherThanTextIsRefusedByName() {
        List<ChatMessage> chat = List.of(ChatMessage.user("hi"), ChatMessage.ofParts("user",
                List.of(ChatMessage.Part.text("What is this?"), new ChatMessage.Part("image_url", null))));
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{{ messages|length }}", null, null).render(chat, true));
        assertEquals("message 2 (user) has a content part of type \"image_url\"; only text parts can be rendered",
                e.getMessage());
    }

    @Test
    void aMessageNeedsARoleAndContent() {
        assertThrows(IllegalArgumentException.class, () -> ChatMessage.of("", "x"));
        assertThrows(IllegalArgumentException.class, () -> ChatMessage.of("user", null));
    }

    @Test
    void aTemplateThatDoesNotParseFailsWhenItIsMade() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{% for m in messages %}{{ m.content }}", null, null));
        assertTrue(e.getMessage().startsWith("the chat template does not parse: "), e.getMessage());
        assertThrows(ChatTemplateException.class, () -> ChatTemplate.of("{% include 'other.jinja' %}", null, null)
                .render(List.of(), false));
    }

    @Test
    void oneTemplateRendersTheSameOnManyThreads() throws Exception {
        ChatTemplate template = qwen3Like();
        List<List<ChatMessage>> chats = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            List<ChatMessage> chat = List.of(ChatMessage.system("S" + i), ChatMessage.user("Q" + i),
                    ChatMessage.assistant("<think>\nt" + i + "\n</think>\n\nA" + i), ChatMessage.user("R" + i));
            chats.add(chat);
            expected.add(template.render(chat, true));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    for (int round = 0; round < 50; round++) {
                        for (int i = 0; i < chats.size(); i++) {
                            if (!template.render(chats.get(i), true).equals(expected.get(i))) {
                                return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rendersInWellUnderAMillisecond() {
        ChatTemplate template = qwen3Like();
        List<ChatMessage> chat = List.of(ChatMessage.system("You are helpful."), ChatMessage.user("What is 2+2?"),
                ChatMessage.assistant("<think>\nadd\n</think>\n\n4"), ChatMessage.user("And 3+3?"));
        for (int i = 0; i < 2000; i++) {
            template.render(chat, true);
        }
        int n = 5000;
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            template.render(chat, true);
        }
        double micros = (System.nanoTime() - start) / 1e3 / n;
        System.out.printf("chat template render (4 messages, Qwen3-style): %.1f us%n", micros);
        assertTrue(micros < 2000, micros + " us per render");
    }

    /** Qwen3's template in miniature: namespace, a reversed loop, string methods, the think split. */
    static ChatTemplate qwen3Like() {
        return ChatTemplate.of("{%- set ns = namespace(last_query_index=messages|length - 1) %}"
                + "{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}"
                + "{%- if message.role == 'user' and not message.content.startswith('<tool_response>') %}"
                + "{%- set ns.last_query_index = index %}{%- break %}{%- endif %}{%- endfor %}"
                + "{%- for message in messages %}{%- if message.role == 'assistant' %}"
                + "{%- set content = message.content.split('</think>')[-1].lstrip('\\n') %}"
                + "{{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' }}"
                + "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
                + "{%- endif %}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
                null, "<|im_end|>");
    }

    private static Path write(Path dir, String json) throws IOException {
        JsonNode parsed = new ObjectMapper().readTree(json); // the test's JSON must itself be valid
        Path file = dir.resolve("tokenizer_config.json");
        Files.writeString(file, parsed.toString());
        return file;
    }
}
