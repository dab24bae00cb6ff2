package io.streaminfer.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.TextTokenizer;
import io.streaminfer.model.chat.ChatTemplate;
import io.streaminfer.model.gguf.GgufFile;
import io.streaminfer.model.gguf.GgufMetadata;
import io.streaminfer.model.tokenizer.TokenizerFiles;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The facts about a replica's model that everything besides the forward pass needs: its name, its
 * configuration (vocabulary, context, BOS and EOS ids), the context each sequence gets, and where its
 * tokenizer is. Built once (on the job's client, from the checkpoint's header) and shipped to the subtasks,
 * which load the tokenizer from it and never reopen the checkpoint to validate.
 *
 * <p>This class is the one place the engine opens model files: {@link #openCheckpoint},
 * {@link #loadTokenizer} and {@link #loadChatTemplate}. Format detection lives behind them.
 *
 * @param modelName the name records carry (and prompts may ask for)
 * @param config the checkpoint's configuration
 * @param contextLength positions each sequence may use: the replica's {@code maxContext} when set, at most
 *     the model's context length
 * @param tokenizerPath the tokenizer file (by default the one a Hugging Face directory or a GGUF file carries),
 *     or null when the replica runs token ids only
 */
public record ModelDescription(String modelName, ModelConfig config, int contextLength, String tokenizerPath)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    public ModelDescription {
        if (modelName == null || config == null) {
            throw new IllegalArgumentException("a model description needs a name and a configuration");
        }
        if (contextLength < 1 || contextLength > config.contextLength()) {
            throw new IllegalArgumentException("context length " + contextLength + " must be within [1, "
                    + config.contextLength() + "]");
        }
        tokenizerPath = tokenizerPath == null || tokenizerPath.isBlank() ? null : tokenizerPath;
    }

    /** The description of {@code replica}'s model, from its checkpoint's header (closed again at once). */
    public static ModelDescription load(ReplicaConfig replica) throws IOException {
        try (Checkpoint checkpoint = openCheckpoint(replica)) {
            return of(replica, checkpoint.config());
        }
    }

    /** The description of {@code replica}'s model, whose configuration has been read already. */
    public static ModelDescription of(ReplicaConfig replica, ModelConfig config) {
        int context = replica.maxContext() == 0 ? config.contextLength()
                : Math.min(replica.maxContext(), config.contextLength());
        String tokenizer = replica.tokenizerPath() != null && !replica.tokenizerPath().isBlank()
                ? replica.tokenizerPath() : tokenizerInside(Path.of(replica.modelPath()));
        return new ModelDescription(replica.modelName(), config, context, tokenizer);
    }

    /** The tokenizer a model path carries: a Hugging Face directory's tokenizer.json, a GGUF file's vocabulary. */
    static String tokenizerInside(Path model) {
        try {
            if (Files.isDirectory(model)) {
                return Files.isRegularFile(model.resolve("tokenizer.json")) ? model.toString() : null;
            }
            return Files.isRegularFile(model) && Checkpoints.detect(model) == Checkpoints.Format.GGUF
                    ? model.toString() : null;
        } catch (IOException e) {
            return null; // opening the checkpoint names the problem
        }
    }

    /** Opens (maps) {@code replica}'s checkpoint, whatever its format. */
    public static Checkpoint openCheckpoint(ReplicaConfig replica) throws IOException {
        return Checkpoints.open(Path.of(replica.modelPath()));
    }

    /** Whether the model comes with a tokenizer (else requests must carry token ids). */
    public boolean hasTokenizer() {
        return tokenizerPath != null;
    }

    /**
     * Where a Hugging Face model's chat template would be: the tokenizer_config.json of its tokenizer (in its
     * directory, or beside its tokenizer.json), or null for tokenizers without one (llama2.c, GGUF, none).
     */
    public Path tokenizerConfigPath() {
        if (tokenizerPath == null) {
            return null;
        }
        Path tokenizer = Path.of(tokenizerPath);
        Path dir = Files.isDirectory(tokenizer) ? tokenizer
                : tokenizer.getFileName().toString().endsWith(".json") ? tokenizer.toAbsolutePath().getParent() : null;
        return dir == null ? null : dir.resolve("tokenizer_config.json");
    }

    /**
     * Loads the model's chat template ({@code chat_template} of {@link #tokenizerConfigPath()}, or
     * chat_template.jinja beside it; a GGUF file's {@code tokenizer.chat_template}), or returns null when the
     * model has none.
     *
     * @throws io.streaminfer.model.chat.ChatTemplateException when the template is there but does not parse
     */
    public ChatTemplate loadChatTemplate() throws IOException {
        if (tokenizerPath != null && Files.isRegularFile(Path.of(tokenizerPath))
                && Checkpoints.detect(Path.of(tokenizerPath)) == Checkpoints.Format.GGUF) {
            return ggufChatTemplate(GgufFile.read(Path.of(tokenizerPath)).metadata());
        }
        Path config = tokenizerConfigPath();
        if (config == null || !Files.isRegularFile(config)) {
            return null;
        }
        JsonNode json = new ObjectMapper().readTree(config.toFile());
        boolean beside = Files.isRegularFile(config.resolveSibling("chat_template.jinja"))
                || Files.isRegularFile(config.resolveSibling("chat_template.json"));
        return json.hasNonNull("chat_template") || beside ? ChatTemplate.fromTokenizerConfig(config) : null;
    }

    /** A GGUF file's {@code tokenizer.chat_template}, with its BOS and EOS tokens' text, or null. */
    private static ChatTemplate ggufChatTemplate(GgufMetadata metadata) {
        String template = metadata.optionalString("tokenizer.chat_template").orElse(null);
        if (template == null) {
            return null;
        }
        java.util.List<String> tokens = metadata.strings("tokenizer.ggml.tokens");
        return ChatTemplate.of(template, tokenText(metadata, "tokenizer.ggml.bos_token_id", tokens),
                tokenText(metadata, "tokenizer.ggml.eos_token_id", tokens));
    }

    private static String tokenText(GgufMetadata metadata, String key, java.util.List<String> tokens) {
        java.util.OptionalLong id = metadata.optionalInteger(key);
        return id.isPresent() && id.getAsLong() >= 0 && id.getAsLong() < tokens.size()
                ? tokens.get((int) id.getAsLong()) : null;
    }

    /**
     * Loads the tokenizer, whatever its format (a llama2.c {@code tokenizer.bin} of the model's vocabulary, a
     * Hugging Face tokenizer.json or a directory holding one), or returns null when there is none.
     */
    public TextTokenizer loadTokenizer() throws IOException {
        if (tokenizerPath == null) {
            return null;
        }
        Path path = Path.of(tokenizerPath);
        if (TokenizerFiles.isLlama2c(path)) {
            // A llama2.c file is read up to the model's vocabulary size; one of another size is another
            // model's, and would otherwise encode (and decode) to gibberish without a word.
            int entries = TokenizerFiles.countLlama2cEntries(path);
            if (entries != config.vocabularySize()) {
                throw new IOException(tokenizerPath + ": the tokenizer has " + entries + " entries but the model's "
                        + "vocabulary has " + config.vocabularySize() + ": is it the tokenizer of another model?");
            }
        }
        TextTokenizer tokenizer = TokenizerFiles.open(path, config.vocabularySize());
        if (tokenizer.vocabularySize() > config.vocabularySize()) {
            throw new IOException(tokenizerPath + ": the tokenizer has " + tokenizer.vocabularySize()
                    + " tokens but the model's vocabulary has " + config.vocabularySize()
                    + ": is it the tokenizer of another model?");
        }
        return tokenizer;
    }
}
