package io.streaminfer.model.gguf;

import io.streaminfer.model.ByteTokens;
import io.streaminfer.model.Llama2cTokenizer;
import io.streaminfer.model.TextTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A GGUF file's vocabulary ({@code tokenizer.ggml.*}) as a {@link TextTokenizer}.
 *
 * <ul>
 *   <li>{@code tokenizer.ggml.model = "llama"}: SentencePiece pieces ({@code tokens}, {@code ▁} for a space,
 *       {@code <0xXX>} byte tokens), {@code scores} and {@code token_type}: the BPE of
 *       {@link Llama2cTokenizer} (run.c's merges are llama.cpp's SPM merges: best score first, leftmost on
 *       ties). Pieces match the text with {@code ▁} as a space, and {@code ▁} in the text is a space too;
 *       characters that are no piece fall back to the {@code <0xXX>} tokens of type BYTE; decoding renders
 *       CONTROL and UNUSED tokens as nothing and BYTE tokens as their byte. {@code add_bos_token} (default
 *       true), {@code add_eos_token} (default false) and {@code add_space_prefix} (default true) are honoured
 *       as llama.cpp does. Special-token text in the input (such as {@code "<s>"}) is not parsed as that
 *       token: it is encoded as text, as run.c does (llama-tokenize parses it).</li>
 *   <li>{@code "gpt2"} (byte-level BPE with {@code merges}: Llama 3, Qwen): as llama.cpp tokenizes it, by the
 *       Hugging Face byte-level BPE (see {@link GgufBpeVocabulary}).</li>
 * </ul>
 */
public final class GgufVocabulary {
    /** GGUF's {@code tokenizer.ggml.token_type} values that change how a token reads. */
    static final int CONTROL = 3;
    static final int UNUSED = 5;
    static final int BYTE = 6;
    private static final char SPACE_MARKER = '\u2581';

    private GgufVocabulary() {}

    /** The vocabulary of the GGUF file at {@code path} (reads its header only). */
    public static TextTokenizer read(Path path) throws IOException {
        GgufFile file = GgufFile.read(path);
        try {
            List<String> tokens = file.metadata().strings("tokenizer.ggml.tokens");
            return tokenizer(file.metadata(), tokens.size());
        } catch (IllegalArgumentException e) {
            throw new IOException(path + ": " + e.getMessage(), e);
        } catch (UnsupportedOperationException e) {
            throw new UnsupportedOperationException(path + ": " + e.getMessage(), e);
        }
    }

    /**
     * The tokenizer of a model with {@code vocabularySize} embedding rows.
     *
     * @throws UnsupportedOperationException for a vocabulary model this release cannot tokenize
     * @throws IllegalArgumentException when the token arrays are missing, of other lengths, or larger than the
     *     model's vocabulary
     */
    static TextTokenizer tokenizer(GgufMetadata m, int vocabularySize) {
        String model = m.string("tokenizer.ggml.model");
        if (!model.equals("llama") && !model.equals("gpt2")) {
            throw new UnsupportedOperationException("tokenizer.ggml.model " + model + " is not supported"
                    + " (llama, SentencePiece-style, and gpt2, byte-level BPE, are)");
        }
        List<String> tokens = m.strings("tokenizer.ggml.tokens");
        if (model.equals("gpt2")) {
            checkSize(tokens.size(), vocabularySize);
            return GgufBpeVocabulary.tokenizer(m, tokens);
        }
        float[] scores = m.floats("tokenizer.ggml.scores");
        int[] types = m.has("tokenizer.ggml.token_type") ? m.ints("tokenizer.ggml.token_type") : null;
        if (scores.length != tokens.size() || (types != null && types.length != tokens.size())) {
            throw new IllegalArgumentException("tokenizer.ggml.tokens has " + tokens.size() + " entries but scores has "
                    + scores.length + (types == null ? "" : " and token_type " + types.length));
        }
        checkSize(tokens.size(), vocabularySize);
        int vocab = tokens.size();
        byte[][] pieces = new byte[vocab][];
        byte[][] decoded = new byte[vocab][];
        int[] byteTokens = new int[256];
        Arrays.fill(byteTokens, -1);
        for (int id = 0; id < vocab; id++) {
            int type = types == null ? 1 : types[id];
            pieces[id] = tokens.get(id).replace(SPACE_MARKER, ' ').getBytes(StandardCharsets.UTF_8);
            int rawByte = type == BYTE ? ByteTokens.value(tokens.get(id)) : -1;
            if (rawByte >= 0 && byteTokens[rawByte] < 0) {
                byteTokens[rawByte] = id;
            }
            boolean silent = type == CONTROL || type == UNUSED;
            decoded[id] = silent ? new byte[0] : rawByte >= 0 ? new byte[] {(byte) rawByte} : pieces[id];
        }
        int bos = id(m, "bos", vocab);
        int eos = id(m, "eos", vocab);
        return Llama2cTokenizer.of(pieces, scores, decoded, byteTokens, new Llama2cTokenizer.Specials(bos, eos,
                bos >= 0 && m.bool("tokenizer.ggml.add_bos_token", true),
                eos >= 0 && m.bool("tokenizer.ggml.add_eos_token", false),
                m.bool("tokenizer.ggml.add_space_prefix", true), true));
    }

    private static void checkSize(int tokens, int vocabularySize) {
        if (tokens > vocabularySize) {
            throw new IllegalArgumentException("the vocabulary has " + tokens + " tokens but the model only "
                    + vocabularySize + " embedding rows");
        }
    }

    private static int id(GgufMetadata m, String which, int vocab) {
        long id = m.optionalInteger("tokenizer.ggml." + which + "_token_id").orElse(-1);
        return id >= 0 && id < vocab ? (int) id : -1;
    }
}
