package io.streaminfer.job.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streaminfer.model.TextTokenizer;
import io.streaminfer.model.chat.ChatMessage;
import io.streaminfer.model.chat.ChatTemplate;
import io.streaminfer.model.chat.ChatTemplateException;
import io.streaminfer.model.tokenizer.TokenizerFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code streaminfer tokenize}: text on stdin to token ids on stdout, one line each, with the tokenizer a
 * model uses. A bad input line answers an error line and the command goes on with the next.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Encode text from stdin with a tokenizer and print the ids, one output line per input line.",
            "With --json each input line is {\"text\": ...} and each answer {\"ids\": [...], \"text\": <decode of the ids>},"
                + " or {\"error\": ...} for a bad line; without it each line is the text and the answer its ids."})
public final class TokenizeCommand extends CliCommand {
    @Option(names = "--tokenizer", paramLabel = "PATH", description = "A Hugging Face tokenizer.json, a model directory "
            + "holding one (its tokenizer_config.json is read too), or a llama2.c tokenizer.bin.")
    private String tokenizerPath;
    @Option(names = "--vocab-size", paramLabel = "N", description = "llama2.c tokenizer.bin only: how many entries "
            + "to read (the model's vocabulary size). Default: every entry in the file.")
    private Integer vocabSize;
    @Option(names = "--special", description = "Add the special tokens the tokenizer puts around a text (its "
            + "post-processor's template, e.g. BOS; llama2.c: BOS).")
    private boolean special;
    @Option(names = "--json", description = "JSON Lines in and out: {\"text\": ...} -> {\"ids\": [...], \"text\": ...}.")
    private boolean json;
    @Option(names = "--chat", description = "With --json: each line is {\"messages\": [{\"role\", \"content\"}...], "
            + "\"add_generation_prompt\": bool, ...more template variables}, rendered with the chat template of the "
            + "tokenizer_config.json beside the tokenizer; the answer is {\"text\": <rendered>, \"ids\": <the rendered "
            + "text encoded without added special tokens>}.")
    private boolean chat;

    private InputStream in = System.in;
    private TextTokenizer tokenizer;
    private ChatTemplate template;
    // Non-ASCII is escaped, so the output reads the same whatever the console's charset.
    private final ObjectMapper mapper = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();

    /** Where the lines come from (stdin unless a test says otherwise). */
    void setInput(InputStream input) {
        this.in = input;
    }

    @Override
    void checkFlags() {
        FileChecks.requireGiven("--tokenizer", tokenizerPath);
        Path path = FileChecks.readableFileOrDirectory("--tokenizer", tokenizerPath);
        if (vocabSize != null && vocabSize < 1) {
            throw new IllegalArgumentException("--vocab-size must be >= 1, got " + vocabSize);
        }
        try {
            tokenizer = TokenizerFiles.open(path, vocabSize == null ? 0 : vocabSize);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("--tokenizer: " + e.getMessage(), e); // the message names the file
        }
        if (chat) {
            if (!json) {
                throw new IllegalArgumentException("--chat reads JSON Lines: give --json too");
            }
            Path config = (java.nio.file.Files.isDirectory(path) ? path : path.toAbsolutePath().getParent())
                    .resolve("tokenizer_config.json");
            if (!java.nio.file.Files.isRegularFile(config)) {
                throw new IllegalArgumentException("--chat needs the chat template of a tokenizer_config.json beside "
                        + "the tokenizer; there is none at " + config);
            }
            try {
                template = ChatTemplate.fromTokenizerConfig(config);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("--chat: " + e.getMessage(), e);
            }
        }
    }

    @Override
    Integer run() throws IOException {
        PrintWriter out = spec().commandLine().getOut();
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line; (line = reader.readLine()) != null; ) {
            out.println(json ? answerJson(line) : answerPlain(line));
            out.flush();
        }
        return Cli.EXIT_OK;
    }

    private String answerPlain(String line) {
        int[] ids = tokenizer.encode(line, special);
        return IntStream.of(ids).mapToObj(Integer::toString).collect(Collectors.joining(" "));
    }

    private String answerJson(String line) throws IOException {
        ObjectNode answer = mapper.createObjectNode();
        try {
            if (chat) {
                String rendered = render(line);
                answer.put("text", rendered);
                ArrayNode array = answer.putArray("ids");
                for (int id : tokenizer.encode(rendered, false)) { // the template writes the special tokens itself
                    array.add(id);
                }
                return mapper.writeValueAsString(answer);
            }
            int[] ids = tokenizer.encode(textOf(line), special);
            ArrayNode array = answer.putArray("ids");
            for (int id : ids) {
                array.add(id);
            }
            answer.put("text", tokenizer.decode(ids));
        } catch (BadLineException | RuntimeException e) {
            answer.removeAll();
            answer.put("error", e.getMessage() == null ? e.getClass().getSimpleName() : Cli.oneLine(e.getMessage()));
        }
        return mapper.writeValueAsString(answer);
    }

    /** The text a request line asks to encode. */
    private String textOf(String line) throws BadLineException {
        JsonNode request = object(line, "\"text\"");
        JsonNode text = request.get("text");
        if (text == null || !text.isTextual()) {
            throw new BadLineException("\"text\" must be a string, got " + (text == null ? "none" : text.getNodeType()));
        }
        return text.asText();
    }

    /** A --chat line rendered with the model's template: messages, add_generation_prompt, more variables. */
    private String render(String line) throws BadLineException {
        JsonNode request = object(line, "\"messages\"");
        JsonNode messages = request.get("messages");
        if (messages == null || !messages.isArray()) {
            throw new BadLineException("\"messages\" must be a list of {\"role\", \"content\"}");
        }
        java.util.List<ChatMessage> conversation = new java.util.ArrayList<>();
        for (JsonNode m : messages) {
            JsonNode role = m.get("role");
            JsonNode content = m.get("content");
            if (role == null || !role.isTextual() || content == null || !content.isTextual()) {
                throw new BadLineException("each message needs a string \"role\" and a string \"content\", got "
                        + abbreviate(m.toString()));
            }
            conversation.add(ChatMessage.of(role.asText(), content.asText()));
        }
        JsonNode generation = request.get("add_generation_prompt");
        if (generation != null && !generation.isBoolean()) {
            throw new BadLineException("\"add_generation_prompt\" must be true or false");
        }
        java.util.Map<String, Object> extra = new java.util.LinkedHashMap<>();
        request.fields().forEachRemaining(f -> {
            if (!f.getKey().equals("messages") && !f.getKey().equals("add_generation_prompt")) {
                extra.put(f.getKey(), mapper.convertValue(f.getValue(), Object.class));
            }
        });
        try {
            return template.render(conversation, generation != null && generation.asBoolean(), extra);
        } catch (ChatTemplateException e) {
            throw new BadLineException(e.getMessage());
        }
    }

    private JsonNode object(String line, String expected) throws BadLineException {
        JsonNode request;
        try {
            request = mapper.readTree(line);
        } catch (JsonProcessingException e) {
            throw new BadLineException("not JSON: " + Cli.oneLine(e.getOriginalMessage()));
        }
        if (request == null || !request.isObject()) {
            throw new BadLineException("expected a JSON object with " + expected + ", got " + abbreviate(line));
        }
        return request;
    }

    private static String abbreviate(String line) {
        return line.length() > 60 ? line.substring(0, 60) + "..." : line;
    }

    /** An input line that cannot be answered: reported on its own output line. */
    private static final class BadLineException extends Exception {
        BadLineException(String message) {
            super(message);
        }
    }
}
