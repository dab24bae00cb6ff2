package io.streaminfer.engine;

import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.TextTokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * When one generating sequence ends, and with what text: a sampled EOS id (not part of the completion), a
 * stop string (the text is cut right before the first one in the completion), {@code max_tokens}, or the
 * end of the context.
 *
 * <p>The completion is decoded one token at a time ({@link TextTokenizer#streamDecoder}, the prompt as its
 * context), and each new token's stop check looks only at the tail where a stop string could newly begin
 * (the last {@code longest stop - 1} characters before the new text, and the new text), never the whole
 * completion again. Results are those of decoding the whole completion at every token and searching it,
 * as the replica did before: a character split over tokens is matched once complete. One case needs that
 * whole decode still: a stop string holding U+FFFD matches the replacement an unfinished trailing
 * character decodes to, which only a whole decode shows, so such requests re-decode every token (O(n) each).
 *
 * <p>Not thread-safe: one per sequence, used by the replica's driver.
 */
final class StopCriteria {
    private final IntPredicate eos;
    private final int maxTokens;
    private final String[] stops;
    private final int longestStop;
    private final TextTokenizer tokenizer;
    private final int[] context;
    private final TextTokenizer.StreamDecoder decoder;
    private final boolean wholeTextCheck;

    private final StringBuilder text = new StringBuilder(); // (completion chars) decoded so far, complete chars only
    private int searchFrom;        // no stop string starts before this index of text
    private int generated;         // tokens accepted or restored
    private int[] tokens;          // every generated token, only for the whole-text check
    private String stoppedText;    // the cut text once a stop string matched
    private String finalText;

    /**
     * @param eos whether a sampled token ends generation ({@link #eosOf})
     * @param tokenizer decodes the completion; null when the replica has none (then the text is empty and
     *     there must be no stop strings)
     * @param context the prompt's tokens, which the completion's text follows
     */
    StopCriteria(IntPredicate eos, int maxTokens, List<String> stops, TextTokenizer tokenizer, int[] context) {
        if (tokenizer == null && !stops.isEmpty()) {
            throw new IllegalArgumentException("stop strings need a tokenizer");
        }
        this.eos = eos;
        this.maxTokens = maxTokens;
        this.stops = stops.toArray(new String[0]);
        this.longestStop = stops.stream().mapToInt(String::length).max().orElse(0);
        this.tokenizer = tokenizer;
        this.context = context;
        this.decoder = tokenizer == null ? null : tokenizer.streamDecoder(context);
        this.wholeTextCheck = stops.stream().anyMatch(s -> s.indexOf('\uFFFD') >= 0);
        this.tokens = wholeTextCheck ? new int[16] : null;
    }

    /**
     * The EOS rule of a model and its tokenizer: every id of the model's configuration (config.json and
     * generation_config.json) and every id the tokenizer's configuration names ends generation.
     */
    static IntPredicate eosOf(ModelConfig config, TextTokenizer tokenizer) {
        int[] fromTokenizer = tokenizer == null ? new int[0] : tokenizer.eosTokenIds();
        if (fromTokenizer.length == 0) {
            return config::isEos;
        }
        java.util.BitSet ids = new java.util.BitSet(config.vocabularySize());
        config.eosTokenIds().forEach(ids::set);
        for (int id : fromTokenizer) {
            ids.set(id);
        }
        return ids::get;
    }

    /** Whether {@code token} ends the sequence as EOS; such a token is not passed to {@link #accept}. */
    boolean isEos(int token) {
        return eos.test(token);
    }

    /** Adds a token generated before a restore: decoded, counted, not checked (it did not stop then). */
    void restore(int token) {
        append(token);
    }

    /**
     * Adds a newly generated (non-EOS) token and says whether the sequence ends with it: {@code STOP} when a
     * stop string completed, else {@code LENGTH} when it was the last token {@code max_tokens} allows or
     * {@code contextFull} (no position is left to feed it at), else null.
     */
    GenerationResult.FinishReason accept(int token, boolean contextFull) {
        append(token);
        if (stops.length > 0 && stopped()) {
            return GenerationResult.FinishReason.STOP;
        }
        return generated >= maxTokens || contextFull ? GenerationResult.FinishReason.LENGTH : null;
    }

    /** Tokens accepted or restored so far. */
    int generated() {
        return generated;
    }

    /**
     * The completion's text: cut before the stop string that ended it, else the text of every token (an
     * unfinished trailing character as U+FFFD). Call once the sequence has ended.
     */
    String text() {
        if (finalText == null) {
            finalText = stoppedText != null ? stoppedText : decoder == null ? "" : text + decoder.finish();
        }
        return finalText;
    }

    private void append(int token) {
        generated++;
        if (decoder != null) {
            text.append(decoder.next(token));
        }
        if (wholeTextCheck) {
            if (generated > tokens.length) {
                tokens = Arrays.copyOf(tokens, tokens.length * 2);
            }
            tokens[generated - 1] = token;
        }
    }

    private boolean stopped() {
        if (wholeTextCheck) {
            TextTokenizer.StreamDecoder whole = tokenizer.streamDecoder(context);
            StringBuilder all = new StringBuilder();
            for (int i = 0; i < generated; i++) {
                all.append(whole.next(tokens[i]));
            }
            all.append(whole.finish());
            int at = firstStop(all, 0);
            if (at >= 0) {
                stoppedText = all.substring(0, at);
            }
            return at >= 0;
        }
        int at = firstStop(text, searchFrom);
        if (at >= 0) {
            stoppedText = text.substring(0, at);
            return true;
        }
        // A stop string found later must end in text still to come, so it starts at most longest - 1 back.
        searchFrom = Math.max(searchFrom, Math.max(0, text.length() - (longestStop - 1)));
        return false;
    }

    /** The first index at or after {@code from} where any stop string starts, or -1. */
    private int firstStop(StringBuilder haystack, int from) {
        int first = -1;
        for (String stop : stops) {
            int at = haystack.indexOf(stop, from);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }
}
