package io.streaminfer.model.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Our renders against two oracles' (made by src/test/goldens/chat): @huggingface/jinja's (chat/goldens.json, what
 * transformers.js runs) and Python Jinja2's set up as transformers does (chat/goldens-jinja2.json). Every
 * conversation with every template, compared as exact strings; a template's raise_exception must come back as a
 * ChatTemplateException with the same message. Renders where an oracle itself fails are not compared with it.
 * The shared templates (and Mistral's) must all pass; any other mismatch must be listed, with its reason, in
 * chat/known-differences.json under its oracle.
 */
class ChatTemplateGoldenTest {
    /** Templates that must match every golden. */
    static final List<String> REQUIRED = List.of("llama3-instruct", "qwen3", "mistral");
    static final Clock GOLDEN_CLOCK = Clock.fixed(Instant.parse("2025-03-07T09:05:00Z"), ZoneOffset.UTC);

    private static JsonNode cases;
    /** The renders of each oracle: @huggingface/jinja (goldens.json) and Python's Jinja2 (goldens-jinja2.json). */
    private static Map<String, JsonNode> oracles;
    private static Map<String, JsonNode> templates;
    /** Per oracle: "template/case" -> why our render differs from that oracle's. */
    private static Map<String, Map<String, String>> knownDifferences;

    @BeforeAll
    static void load() throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode hf = json.readTree(resource("goldens.json"));
        cases = hf.get("cases");
        oracles = new LinkedHashMap<>();
        oracles.put("@huggingface/jinja", hf);
        oracles.put("jinja2", json.readTree(resource("goldens-jinja2.json")));
        templates = new LinkedHashMap<>();
        for (JsonNode t : json.readTree(resource("templates.json")).get("templates")) {
            templates.put(t.get("id").asText(), t);
        }
        knownDifferences = new LinkedHashMap<>();
        json.readTree(resource("known-differences.json")).fields().forEachRemaining(oracle -> {
            Map<String, String> byKey = new TreeMap<>();
            oracle.getValue().fields().forEachRemaining(e -> byKey.put(e.getKey(), e.getValue().asText()));
            knownDifferences.put(oracle.getKey(), byKey);
        });
    }

    private static InputStream resource(String name) {
        InputStream in = ChatTemplateGoldenTest.class.getResourceAsStream("/chat/" + name);
        if (in == null) {
            throw new IllegalStateException("test resource chat/" + name + " is missing");
        }
        return in;
    }

    @Test
    void sharedTemplatesMatchEveryGoldenOfBothOracles() {
        Path dir = sharedTokenizers();
        for (String oracle : oracles.keySet()) {
            Map<String, Tally> tallies = compare(oracle, id -> templates.containsKey(id) ? null
                    : ChatTemplate.fromTokenizerConfig(dir.resolve(id).resolve("tokenizer_config.json")), true);
            report(oracle, tallies);
            assertTrue(tallies.keySet().containsAll(List.of("llama3-instruct", "qwen3")), tallies.keySet().toString());
            for (Tally tally : tallies.values()) {
                assertEquals(List.of(), tally.failures, tally.template + " must match every golden of " + oracle);
            }
        }
    }

    @Test
    void theSharedMistralConfigHasNoTemplateAndSaysSo() {
        Path config = sharedTokenizers().resolve("mistral").resolve("tokenizer_config.json");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> ChatTemplate.fromTokenizerConfig(config));
        assertEquals(config + " has no chat_template: this model cannot render messages; send a prompt instead",
                e.getMessage());
    }

    @Test
    void npmTemplatesMatchHuggingfaceJinjaButTheListedDifferences() {
        npmTemplatesMatch("@huggingface/jinja");
    }

    @Test
    void npmTemplatesMatchPythonJinja2ButTheListedDifferences() {
        npmTemplatesMatch("jinja2");
    }

    private void npmTemplatesMatch(String oracle) {
        Map<String, Tally> tallies = compare(oracle, id -> {
            JsonNode t = templates.get(id);
            return t == null ? null : ChatTemplate.of(t.get("chat_template").asText(), text(t, "bos_token"),
                    text(t, "eos_token"));
        }, false);
        report(oracle, tallies);
        Map<String, String> known = knownDifferences.getOrDefault(oracle, Map.of());
        List<String> unexplained = new ArrayList<>();
        List<String> stale = new ArrayList<>();
        for (Tally tally : tallies.values()) {
            for (String failure : tally.failures) {
                String key = failure.substring(0, failure.indexOf(' '));
                if (REQUIRED.contains(tally.template) || !known.containsKey(key)) {
                    unexplained.add(failure);
                }
            }
            tally.passedKeys.stream().filter(known::containsKey).forEach(stale::add);
        }
        assertEquals(List.of(), stale, "listed in known-differences.json but now matching " + oracle + ": remove them");
        if (!unexplained.isEmpty()) {
            fail(unexplained.size() + " renders differ from " + oracle + ":\n" + String.join("\n", unexplained));
        }
    }

    /** The shared tokenizers, or a skipped test (a failed one under CI) naming where they were looked for. */
    static Path sharedTokenizers() {
        String configured = System.getProperty("streaminfer.shared.models");
        List<Path> candidates = configured != null ? List.of(Path.of(configured))
                : List.of(Path.of("../shared/models"), Path.of("../../shared/models"));
        for (Path models : candidates) {
            Path dir = models.resolve("tokenizers");
            if (Files.isRegularFile(dir.resolve("qwen3").resolve("tokenizer_config.json"))) {
                return dir;
            }
        }
        String message = "shared tokenizers not found: looked for tokenizers/qwen3/tokenizer_config.json in "
                + candidates + " (set -Dstreaminfer.shared.models=<dir>)";
        if (System.getenv("CI") != null) {
            fail(message);
        }
        Assumptions.abort("skipped: " + message);
        throw new AssertionError("unreachable");
    }

    interface TemplateSource {
        /** The template of a golden's id, or null when this test does not cover it. */
        ChatTemplate open(String id) throws IOException;
    }

    private Map<String, Tally> compare(String oracle, TemplateSource source, boolean shared) {
        Map<String, JsonNode> caseById = new LinkedHashMap<>();
        for (JsonNode c : cases) {
            caseById.put(c.get("id").asText(), c);
        }
        Map<String, Tally> tallies = new LinkedHashMap<>();
        Map<String, ChatTemplate> opened = new LinkedHashMap<>();
        for (JsonNode golden : oracles.get(oracle).get("renders")) {
            String id = golden.get("template").asText();
            if (shared == templates.containsKey(id)) {
                continue;
            }
            Tally tally = tallies.computeIfAbsent(id, Tally::new);
            String key = id + "/" + golden.get("case").asText();
            if (golden.has("oracle_error") || golden.has("python_error")) {
                tally.notCompared++;
                continue;
            }
            ChatTemplate template;
            try {
                template = opened.computeIfAbsent(id, i -> {
                    try {
                        return source.open(i).withClock(GOLDEN_CLOCK);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
            } catch (ChatTemplateException e) {
                tally.fail(key, "does not load: " + e.getMessage());
                continue;
            }
            JsonNode c = caseById.get(golden.get("case").asText());
            String outcome = outcome(template, c);
            String expected = golden.has("expected") ? "text " + golden.get("expected").asText()
                    : "raises " + golden.get("raised").asText();
            if (outcome.equals(expected)) {
                tally.pass(key);
            } else {
                tally.fail(key, "expected " + quote(expected) + "\n      but got " + quote(outcome));
            }
        }
        return tallies;
    }

    private static String outcome(ChatTemplate template, JsonNode c) {
        try {
            Map<String, Object> extra = new ObjectMapper().convertValue(c.get("extra"), Map.class);
            return "text " + template.render(messages(c.get("messages")), c.get("add_generation_prompt").asBoolean(),
                    extra);
        } catch (ChatTemplateException e) {
            return e.raisedMessage() != null ? "raises " + e.raisedMessage() : "fails " + e.getMessage();
        } catch (RuntimeException e) {
            return "throws " + e;
        }
    }

    static List<ChatMessage> messages(JsonNode messages) {
        List<ChatMessage> list = new ArrayList<>();
        for (JsonNode m : messages) {
            JsonNode content = m.get("content");
            if (content.isTextual()) {
                list.add(ChatMessage.of(m.get("role").asText(), content.asText()));
            } else {
                List<ChatMessage.Part> parts = new ArrayList<>();
                content.forEach(p -> parts.add(new ChatMessage.Part(p.get("type").asText(), text(p, "text"))));
                list.add(ChatMessage.ofParts(m.get("role").asText(), parts));
            }
        }
        return list;
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t") + "\"";
    }

    private static void report(String oracle, Map<String, Tally> tallies) {
        StringBuilder out = new StringBuilder("chat template goldens (ours vs " + oracle + " "
                + oracles.get(oracle).path("oracle").path("version").asText() + "):\n");
        int passed = 0;
        int compared = 0;
        for (Tally t : tallies.values()) {
            out.append(String.format("  %-34s %3d/%3d%s%n", t.template, t.passed, t.passed + t.failures.size(),
                    t.notCompared > 0 ? "  (" + t.notCompared + " not compared: the oracle fails)" : ""));
            passed += t.passed;
            compared += t.passed + t.failures.size();
        }
        out.append(String.format("  %-34s %3d/%3d%n", "total", passed, compared));
        tallies.values().stream().flatMap(t -> t.failures.stream()).limit(40)
                .forEach(f -> out.append("  DIFF ").append(f).append('\n'));
        System.out.print(out);
    }

    static final class Tally {
        final String template;
        int passed;
        int notCompared;
        final List<String> failures = new ArrayList<>();
        final List<String> passedKeys = new ArrayList<>();

        Tally(String template) {
            this.template = template;
        }

        void pass(String key) {
            passed++;
            passedKeys.add(key);
        }

        void fail(String key, String why) {
            failures.add(key + " " + why);
        }
    }
}
