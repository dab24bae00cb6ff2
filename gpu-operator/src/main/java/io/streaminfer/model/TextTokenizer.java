package io.streaminfer.model;

/**
 * Text to token ids and back, for one model's vocabulary. Implementations: the llama2.c
 * {@code tokenizer.bin} ({@link Llama2cTokenizer}); Hugging Face's tokenizer.json and the GGUF vocabulary
 * arrive with their formats. Immutable and safe to share between threads.
 */
public interface TextTokenizer {

    /** Ids this tokenizer can produce: [0, vocabularySize). */
    int vocabularySize();

    /**
     * Token ids of {@code text}. With {@code addSpecialTokens} the tokenizer adds what its format says a
     * sequence starts with (llama2.c: BOS; Hugging Face: its post-processor's template).
     */
    int[] encode(String text, boolean addSpecialTokens);

    /** The text of {@code ids} as a whole, special tokens rendered as nothing. */
    String decode(int[] ids);

    /**
     * Ids that end generation by the tokenizer's own configuration, besides the model's (Hugging Face:
     * tokenizer_config.json's {@code eos_token}, which config.json and generation_config.json may not list).
     */
    default int[] eosTokenIds() {
        return new int[0];
    }

    /**
     * A decoder for tokens that follow {@code context} (e.g. the prompt): {@link StreamDecoder#next} returns
     * the text each new token adds, so stop strings can be checked per token without re-decoding the whole
     * completion. The pieces concatenate to the text of the new tokens as they read after the context.
     */
    StreamDecoder streamDecoder(int[] context);

    /** Text of generated tokens, one token at a time. Not thread-safe: one per sequence. */
    interface StreamDecoder {
        /** The text {@code token} completes; empty while it only starts a multi-byte character. */
        String next(int token);

        /** What is still held back (an unfinished UTF-8 sequence, as U+FFFD), once no token follows. */
        String finish();
    }
}
