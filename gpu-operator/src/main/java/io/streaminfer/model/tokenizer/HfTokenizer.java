package io.streaminfer.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streaminfer.model.TextTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A Hugging Face {@code tokenizer.json} (with the {@code tokenizer_config.json} beside it, if any) run as
 * Hugging Face runs it, in plain Java: byte-level BPE (Llama 3, Qwen2/3, GPT-2) and SentencePiece-style BPE
 * with byte fallback (Llama 2, Mistral, TinyLlama). Encoding: added tokens are matched in the raw text first
 * (longest first); each stretch between them is normalized, cut by the pre-tokenizer and merged by
 * {@link BpeModel}; special tokens from the post-processor are added on request. Decoding goes through
 * {@link TokenDecoder}. Behaviour is checked against transformers.js on every golden string
 * ({@code src/test/goldens}). Unsupported model types and components are refused at load, naming them.
 * tokenizer.json's {@code truncation} and {@code padding} are not applied (callers check lengths). Character
 * classes and NFC come from the JDK's Unicode tables (Java 17: Unicode 13), so characters assigned in
 * Unicode 14 or later are split and normalized as unassigned ones, unlike transformers.js on a newer ICU.
 * Immutable and safe to share between threads; no native code and no static state.
 */
public final class HfTokenizer implements TextTokenizer {
    private final TextNormalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final BpeModel model;
    private final PostProcessor postProcessor;
    private final TokenDecoder decoder;
    private final AddedVocabulary rawAdded;        // added tokens matched before normalization
    private final AddedVocabulary normalizedAdded; // those matched after it
    private final List<AddedToken> addedTokens;
    private final String[] tokens;                 // (vocab) token string of each id, null for a hole
    private final Map<String, Integer> addedIds;
    private final int[] specialIds;
    private final OptionalInt bos;
    private final int[] eos;
    private final Map<String, String> chatTemplates;

    private HfTokenizer(JsonNode json, JsonNode config, JsonNode generationConfig, String chatTemplateFile) {
        this.model = BpeModel.fromJson(json.path("model"));
        this.normalizer = TextNormalizer.fromJson(json.get("normalizer"));
        this.preTokenizer = PreTokenizer.fromJson(json.get("pre_tokenizer"));
        this.postProcessor = PostProcessor.fromJson(json.get("post_processor"));
        List<AddedToken> added = new ArrayList<>();
        for (JsonNode t : json.path("added_tokens")) {
            boolean special = t.path("special").asBoolean(false);
            added.add(new AddedToken(t.path("id").asInt(-1), t.path("content").asText(""), special,
                    t.path("normalized").asBoolean(!special), t.path("single_word").asBoolean(false),
                    t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false)));
        }
        this.addedTokens = List.copyOf(added);
        int size = 0;
        for (int id : model.vocab().values()) {
            size = Math.max(size, id + 1);
        }
        for (AddedToken t : added) {
            if (t.id() < 0) {
                throw new IllegalArgumentException("added token '" + t.content() + "' has no id");
            }
            size = Math.max(size, t.id() + 1);
        }
        this.tokens = new String[size];
        model.vocab().forEach((token, id) -> tokens[id] = token);
        boolean[] isAdded = new boolean[size];
        boolean[] isSpecial = new boolean[size];
        this.addedIds = new LinkedHashMap<>();
        List<AddedToken> raw = new ArrayList<>();
        List<AddedToken> normalized = new ArrayList<>();
        for (AddedToken t : added) {
            tokens[t.id()] = t.content();
            isAdded[t.id()] = true;
            isSpecial[t.id()] |= t.special();
            addedIds.put(t.content(), t.id());
            if (t.normalized() && normalizer != TextNormalizer.NONE) {
                normalized.add(new AddedToken(t.id(), normalizer.normalize(t.content()), t.special(), true,
                        t.singleWord(), t.leftStrip(), t.rightStrip()));
            } else {
                raw.add(t);
            }
        }
        // transformers.js also skips tokenizer_config's additional_special_tokens when decoding
        for (JsonNode t : config.path("additional_special_tokens")) {
            OptionalInt id = tokenId(Json.tokenContent(t));
            id.ifPresent(i -> isSpecial[i] = true);
        }
        this.rawAdded = new AddedVocabulary(raw);
        this.normalizedAdded = new AddedVocabulary(normalized);
        this.specialIds = java.util.stream.IntStream.range(0, size).filter(i -> isSpecial[i]).toArray();
        this.decoder = TokenDecoder.fromJson(json.get("decoder"), tokens, isAdded, isSpecial);
        this.bos = configuredBos(config);
        this.eos = configuredEos(config, generationConfig);
        this.chatTemplates = chatTemplates(config, chatTemplateFile);
    }

    /**
     * Loads {@code path}: a tokenizer.json, or a model directory holding one. tokenizer_config.json,
     * generation_config.json and chat_template.jinja beside it are read when present.
     *
     * @throws IOException naming the file, and the component when it is unsupported or malformed
     */
    public static HfTokenizer load(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        ObjectMapper mapper = new ObjectMapper();
        Path dir = file.toAbsolutePath().getParent();
        JsonNode json = mapper.readTree(file.toFile());
        JsonNode config = readOptional(mapper, dir.resolve("tokenizer_config.json"));
        JsonNode generation = readOptional(mapper, dir.resolve("generation_config.json"));
        Path jinja = dir.resolve("chat_template.jinja");
        String template = Files.isRegularFile(jinja) ? Files.readString(jinja, StandardCharsets.UTF_8) : null;
        try {
            return new HfTokenizer(json, config, generation, template);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * A tokenizer from documents built in memory rather than read from files: {@code tokenizerJson} in
     * tokenizer.json's shape, {@code config} in tokenizer_config.json's ({@code bos_token}, {@code eos_token},
     * {@code chat_template}) and {@code generation} in generation_config.json's ({@code eos_token_id}). Used for
     * vocabularies other formats carry (a GGUF file's byte-level BPE).
     *
     * @throws IllegalArgumentException naming the component that is unsupported or malformed
     */
    public static HfTokenizer fromDocuments(JsonNode tokenizerJson, JsonNode config, JsonNode generation) {
        return new HfTokenizer(tokenizerJson, config, generation, null);
    }

    private static JsonNode readOptional(ObjectMapper mapper, Path file) throws IOException {
        return Files.isRegularFile(file) ? mapper.readTree(file.toFile()) : mapper.createObjectNode();
    }

    @Override
    public int vocabularySize() {
        return tokens.length;
    }

    /** Ids of {@code text}; with {@code addSpecialTokens} wrapped by the post-processor (BOS...). */
    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        if (text == null) {
            throw new IllegalArgumentException("cannot encode null text");
        }
        IntList out = new IntList(text.length() / 3 + 4);
        List<String> pieces = new ArrayList<>();
        List<AddedVocabulary.Section> sections = rawAdded.split(text);
        for (int s = 0; s < sections.size(); s++) {
            AddedVocabulary.Section section = sections.get(s);
            if (section.token() != null) {
                out.add(section.token().id());
                continue;
            }
            String normalized = normalizer.normalize(section.text());
            if (normalized.isEmpty()) {
                continue;
            }
            for (AddedVocabulary.Section sub : normalizedAdded.split(normalized)) {
                if (sub.token() != null) {
                    out.add(sub.token().id());
                    continue;
                }
                pieces.clear();
                preTokenizer.split(sub.text(), s, pieces);
                for (String piece : pieces) {
                    model.encode(piece, out);
                }
            }
        }
        int[] ids = out.toArray();
        return addSpecialTokens ? postProcessor.apply(ids) : ids;
    }

    /** The text of {@code ids}, special tokens left out; unknown ids read as nothing. */
    @Override
    public String decode(int[] ids) {
        return decoder.decode(ids, true);
    }

    /** The text of {@code ids}; with {@code skipSpecialTokens} false, special tokens read as their text. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return decoder.decode(ids, skipSpecialTokens);
    }

    /**
     * Pieces of text per new token, special tokens left out. The context runs through the decoder first
     * (O(context) once): a leading space the decoder strips is stripped only at the very start, and bytes of
     * a character the context left unfinished are completed by the new tokens.
     */
    @Override
    public StreamDecoder streamDecoder(int[] context) {
        TokenDecoder.Stream stream = decoder.stream(true);
        StringBuilder discard = new StringBuilder();
        if (context != null) {
            for (int id : context) {
                stream.next(id, discard);
                discard.setLength(0);
            }
        }
        return new StreamDecoder() {
            private final StringBuilder out = new StringBuilder();

            @Override
            public String next(int token) {
                out.setLength(0);
                stream.next(token, out);
                return out.toString();
            }

            @Override
            public String finish() {
                out.setLength(0);
                stream.finish(out);
                return out.toString();
            }
        };
    }

    /** The id of a token string (an added token or a vocabulary entry). */
    public OptionalInt tokenId(String token) {
        if (token == null) {
            return OptionalInt.empty();
        }
        Integer id = addedIds.get(token);
        if (id == null) {
            id = model.vocab().get(token);
        }
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The token string of an id, as the vocabulary writes it (byte-level tokens in GPT-2's alphabet). */
    public Optional<String> token(int id) {
        return id >= 0 && id < tokens.length ? Optional.ofNullable(tokens[id]) : Optional.empty();
    }

    /** BOS: tokenizer_config's {@code bos_token}, else the first id the post-processor puts before the text. */
    public OptionalInt bosTokenId() {
        return bos;
    }

    /** Ids that end generation: tokenizer_config's {@code eos_token}, then generation_config's {@code eos_token_id}. */
    @Override
    public int[] eosTokenIds() {
        return eos.clone();
    }

    /** What {@code encode(text, true)} puts around the text. */
    public PostProcessor postProcessor() {
        return postProcessor;
    }

    public List<AddedToken> addedTokens() {
        return addedTokens;
    }

    /** Ids decoding leaves out: special added tokens and tokenizer_config's additional_special_tokens. */
    public int[] specialTokenIds() {
        return specialIds.clone();
    }

    /** The default chat template (Jinja source), as tokenizer_config.json or chat_template.jinja has it. */
    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplates.get("default"));
    }

    /** Every named chat template ("default", "tool_use"...). */
    public Map<String, String> chatTemplates() {
        return chatTemplates;
    }

    private OptionalInt configuredBos(JsonNode config) {
        String name = Json.tokenContent(config.get("bos_token"));
        OptionalInt id = tokenId(name);
        if (id.isPresent()) {
            return id;
        }
        int[] prefix = postProcessor.prefix();
        return prefix.length > 0 ? OptionalInt.of(prefix[0]) : OptionalInt.empty();
    }

    private int[] configuredEos(JsonNode config, JsonNode generation) {
        Set<Integer> ids = new LinkedHashSet<>();
        tokenId(Json.tokenContent(config.get("eos_token"))).ifPresent(ids::add);
        JsonNode fromGeneration = generation.get("eos_token_id");
        if (fromGeneration != null && fromGeneration.isInt()) {
            ids.add(fromGeneration.asInt());
        } else if (fromGeneration != null && fromGeneration.isArray()) {
            fromGeneration.forEach(n -> ids.add(n.asInt()));
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static Map<String, String> chatTemplates(JsonNode config, String templateFile) {
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode template = config.get("chat_template");
        if (template != null && template.isTextual()) {
            out.put("default", template.asText());
        } else if (template != null && template.isArray()) {
            for (JsonNode named : template) {
                out.put(Json.text(named, "name"), Json.text(named, "template"));
            }
        } else if (templateFile != null) {
            out.put("default", templateFile);
        }
        return Collections.unmodifiableMap(out);
    }

    @Override
    public String toString() {
        return "HfTokenizer[vocabulary=" + tokens.length + ", added=" + addedTokens.size() + ", bos=" + bos
                + ", eos=" + Arrays.toString(eos) + "]";
    }
}
