package io.streaminfer.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streaminfer.job.Main;
import io.streaminfer.model.Llama2cTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code streaminfer tokenize} through the real CommandLine, with lines on its stdin. */
class TokenizeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Outcome(int exit, String out, String err) {
        List<JsonNode> answers() {
            return out.lines().map(line -> {
                try {
                    return JSON.readTree(line);
                } catch (IOException e) {
                    throw new AssertionError("not JSON: " + line, e);
                }
            }).toList();
        }
    }

    private static Outcome run(String stdin, String... args) {
        CommandLine cl = Main.commandLine();
        TokenizeCommand command = (TokenizeCommand) cl.getSubcommands().get("tokenize").getCommand();
        command.setInput(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Outcome(exit, out.toString(), err.toString());
    }

    /** A shared file: skipped without it, failed under CI (which always has ../shared/models). */
    private static Path shared(String name) {
        return io.streaminfer.job.TestModels.requireShared(name);
    }

    @Test
    void answersEachJsonLineAndGoesOnAfterABadOne() throws IOException {
        Path tok512 = shared("tok512.bin");
        String stdin = "{\"text\": \"Once upon a time\"}\nnot json\n{\"text\": 5}\n[1]\n{\"text\": \"é, 日本\"}\n";
        Outcome o = run(stdin, "tokenize", "--tokenizer", tok512.toString(), "--special", "--json");
        assertEquals(0, o.exit(), o.err());
        List<JsonNode> answers = o.answers();
        assertEquals(5, answers.size(), o.out());
        Llama2cTokenizer reference = Llama2cTokenizer.load(tok512, 512);
        assertEquals(Arrays.toString(reference.encode("Once upon a time", true, false)), ids(answers.get(0)));
        assertEquals("Once upon a time", answers.get(0).get("text").asText(), "BOS drops the dummy-prefix space");
        assertTrue(answers.get(1).get("error").asText().startsWith("not JSON"), answers.get(1).toString());
        assertTrue(answers.get(2).get("error").asText().contains("\"text\" must be a string"), answers.get(2).toString());
        assertTrue(answers.get(3).has("error"), answers.get(3).toString());
        assertEquals("é, 日本", answers.get(4).get("text").asText(), "byte tokens decode back");
        assertTrue(o.out().chars().allMatch(c -> c < 0x80), "non-ASCII is escaped: " + o.out());
    }

    @Test
    void huggingFaceTokenizerFromAModelDirectory() {
        Path mistral = shared("tokenizers/mistral");
        Outcome special = run("{\"text\": \"Hello world\"}\n", "tokenize", "--tokenizer", mistral.toString(), "--special", "--json");
        assertEquals("{\"ids\":[1,22557,1526],\"text\":\"Hello world\"}", special.out().strip(), special.err());
        Outcome plain = run("{\"text\": \"Hello world\"}\n", "tokenize", "--tokenizer", mistral.resolve("tokenizer.json").toString(), "--json");
        assertEquals("{\"ids\":[22557,1526],\"text\":\"Hello world\"}", plain.out().strip(), plain.err());
        Outcome lines = run("Hello world\n\n", "tokenize", "--tokenizer", mistral.toString());
        assertEquals(List.of("22557 1526", ""), lines.out().lines().toList(), "without --json: ids per text line");
    }

    @Test
    void badTokenizersAreOneLineAndExit2() throws IOException {
        assertUsageError(run("", "tokenize", "--json"), "missing --tokenizer");
        assertUsageError(run("", "tokenize", "--tokenizer", dir.resolve("absent.json").toString()), "no such file");
        Path unigram = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        assertUsageError(run("", "tokenize", "--tokenizer", unigram.toString()), "unsupported model type 'Unigram'");
        Path garbage = Files.write(dir.resolve("tokenizer.bin"), new byte[] {1, 0, 0, 0, 0, 0});
        assertUsageError(run("", "tokenize", "--tokenizer", garbage.toString()), "not a llama2.c tokenizer");
        Path tok512 = shared("tok512.bin");
        assertUsageError(run("", "tokenize", "--tokenizer", tok512.toString(), "--vocab-size", "0"), "--vocab-size must be >= 1");
    }

    @Test
    void helpNamesTheFormatsAndTheVocabSizeDefault() {
        Outcome o = run("", "tokenize", "--help");
        assertEquals(0, o.exit());
        for (String fragment : List.of("--tokenizer", "tokenizer.json", "tokenizer.bin", "--vocab-size", "every entry",
                "--special", "--json")) {
            assertTrue(o.out().contains(fragment), fragment + " in " + o.out());
        }
    }

    private static String ids(JsonNode answer) {
        int[] ids = new int[answer.get("ids").size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = answer.get("ids").get(i).asInt();
        }
        return Arrays.toString(ids);
    }

    private static void assertUsageError(Outcome o, String fragment) {
        assertEquals(Cli.EXIT_USAGE, o.exit(), o.err());
        assertEquals(1, o.err().lines().count(), "one line: " + o.err());
        assertTrue(o.err().contains(fragment), o.err());
        assertFalse(o.err().contains("\tat "));
        assertEquals("", o.out());
    }

    @Test
    void chatLinesAreRenderedWithTheModelsTemplateThenEncoded() throws IOException {
        Path qwen3 = shared("tokenizers/qwen3");
        String stdin = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"add_generation_prompt\": true, "
                + "\"enable_thinking\": false}\n{\"messages\": [{\"role\": \"user\"}]}\n";
        Outcome o = run(stdin, "tokenize", "--tokenizer", qwen3.toString(), "--chat", "--json");
        assertEquals(0, o.exit(), o.err());
        List<JsonNode> answers = o.answers();
        assertEquals(2, answers.size(), o.out());
        String text = answers.get(0).get("text").asText();
        io.streaminfer.model.chat.ChatTemplate template = io.streaminfer.model.chat.ChatTemplate.fromTokenizerConfig(
                qwen3.resolve("tokenizer_config.json"));
        assertEquals(template.render(List.of(io.streaminfer.model.chat.ChatMessage.user("Hi")), true,
                java.util.Map.of("enable_thinking", false)), text);
        assertTrue(text.startsWith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"), text);
        assertTrue(text.contains("<think>\n\n</think>"), "enable_thinking=false reaches the template: " + text);
        io.streaminfer.model.TextTokenizer tokenizer = io.streaminfer.model.tokenizer.TokenizerFiles.open(qwen3, 0);
        assertEquals(Arrays.toString(tokenizer.encode(text, false)), ids(answers.get(0)));
        assertTrue(answers.get(1).get("error").asText().contains("string \"role\" and a string \"content\""),
                answers.get(1).toString());
        Outcome plain = run("", "tokenize", "--tokenizer", qwen3.toString(), "--chat");
        assertEquals(Cli.EXIT_USAGE, plain.exit());
        assertTrue(plain.err().contains("--chat reads JSON Lines: give --json too"), plain.err());
    }
}
