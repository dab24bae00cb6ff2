package io.streaminfer.engine;

import io.streaminfer.model.TextTokenizer;
import java.util.Arrays;

/**
 * The one place a request becomes the tokens a sequence feeds, and the one length rule. The job's
 * validation step calls it once per record ({@link #tokenize}), so the replica receives token ids; the
 * replica calls it again only to check them (ids in the vocabulary, the rule against its own context),
 * and to tokenize a request that arrives with text only.
 *
 * <p>The length rule: a sequence fits when every position it reads fits the context. Generating reads the
 * prompt, so a prompt of up to the context's length runs (the token predicted at the last position is the
 * last one it can generate, as llama2.c's {@code run.c} does). Scoring reads prompt and target but the last
 * target token (nothing is predicted after it), so together they may take one token more than the context.
 *
 * <p>Text is measured before it is tokenized: no token of a real vocabulary spells more than
 * {@value #MAX_BYTES_PER_TOKEN} bytes, so text of more UTF-8 bytes than that many per position of the context
 * cannot fit, and is refused without tokenizing it (a 2 MB prompt costs nothing).
 *
 * <p>Immutable and thread-safe when its tokenizer is.
 */
public final class RequestPreparation {
    /** More bytes than any one token of a real vocabulary spells (Llama 3's longest is 128, Qwen's 256). */
    public static final int MAX_BYTES_PER_TOKEN = 256;

    private final TextTokenizer tokenizer;
    private final int vocabularySize;
    private final int contextLength;

    /** A request's tokens: the prompt's, and the target's when scoring (else null). */
    public record Tokens(int[] prompt, int[] target) {
        public boolean scoring() {
            return target != null;
        }
    }

    /**
     * @param tokenizer the model's tokenizer, or null when the replica has none (then only token ids run,
     *     without target or stop strings)
     * @param contextLength positions each sequence may use
     */
    public RequestPreparation(TextTokenizer tokenizer, int vocabularySize, int contextLength) {
        if (vocabularySize < 1 || contextLength < 1) {
            throw new IllegalArgumentException("vocabulary " + vocabularySize + " and context " + contextLength
                    + " must be >= 1");
        }
        this.tokenizer = tokenizer;
        this.vocabularySize = vocabularySize;
        this.contextLength = contextLength;
    }

    /** Preparation for a replica of {@code model}, with the tokenizer loaded from it (or null). */
    public static RequestPreparation of(ModelDescription model, TextTokenizer tokenizer) {
        return new RequestPreparation(tokenizer, model.config().vocabularySize(), model.contextLength());
    }

    public int contextLength() {
        return contextLength;
    }

    /** The request carrying its token ids, tokenized here once, after every check of {@link #prepare}. */
    public GenerationRequest tokenize(GenerationRequest request) {
        Tokens tokens = prepare(request);
        return request.withTokens(tokens.prompt(), tokens.target());
    }

    /**
     * The tokens {@code request} feeds: its token ids when it has them, else its text tokenized (BOS as the
     * tokenizer adds it). Scoring splits as the tokenizer splits prompt + target together, so that a merge
     * across the boundary does not invent an unlikely token sequence: the target's tokens are those of the
     * joint text past its longest common prefix with the prompt's tokens. With prompt token ids the target is
     * read as the continuation of their text: the ids are decoded, and the target's tokens are those the
     * decoded text plus the target splits into past that common prefix, as for a text prompt; so the same
     * text scores the same whichever way the prompt comes (ids that the tokenizer itself made from it). When
     * the joint split moves the prompt's last tokens into the target, as many are dropped from the ids. An
     * empty target is refused either way: there is nothing to score.
     *
     * @throws InvalidRequestException naming why the request cannot run
     */
    public Tokens prepare(GenerationRequest request) {
        boolean needsText = request.promptTokenIds() == null
                || (request.target() != null && request.targetTokenIds() == null);
        if (tokenizer == null && (needsText || !request.params().stop().isEmpty())) {
            throw new InvalidRequestException(
                    "this replica has no tokenizer: send prompt_token_ids (and no target or stop strings)");
        }
        if (request.target() != null && request.target().isEmpty() && request.targetTokenIds() == null) {
            throw new InvalidRequestException("the target is empty: give the text to score, or leave target out to generate");
        }
        String tooManyBytes = textTooLong(request);
        if (tooManyBytes != null) {
            throw new InvalidRequestException(tooManyBytes);
        }
        int[] prompt;
        int[] target = null;
        if (request.target() == null) {
            prompt = request.promptTokenIds() != null ? request.promptTokenIds() : encode(request.prompt(), true);
        } else if (request.targetTokenIds() != null) {
            prompt = request.promptTokenIds();
            target = request.targetTokenIds();
        } else if (request.prompt() != null) {
            int[][] split = splitJointly(request.prompt(), request.target());
            prompt = split[0];
            target = split[1];
        } else {
            int[][] split = splitAfterIds(request.promptTokenIds(), request.target());
            prompt = split[0];
            target = split[1];
        }
        if (prompt.length == 0) {
            throw new InvalidRequestException("the prompt is empty");
        }
        checkVocabulary("prompt", prompt);
        if (target != null) {
            if (target.length == 0) {
                throw new InvalidRequestException("the target is empty");
            }
            checkVocabulary("target", target);
        }
        String tooLong = lengthProblem(prompt.length, target == null ? -1 : target.length, contextLength);
        if (tooLong != null) {
            throw new InvalidRequestException(tooLong);
        }
        return new Tokens(prompt, target);
    }

    /**
     * The one length rule (see the class comment), or null when the request fits.
     *
     * @param targetTokens the target's tokens when scoring, or -1 when generating
     */
    public static String lengthProblem(int promptTokens, int targetTokens, int contextLength) {
        if (targetTokens < 0) {
            return promptTokens <= contextLength ? null
                    : "prompt takes " + promptTokens + " tokens, more than the context of " + contextLength;
        }
        int total = promptTokens + targetTokens;
        return total - 1 <= contextLength ? null : "prompt and target take " + total
                + " tokens, more than the context of " + contextLength + " can score (at most " + (contextLength + 1)
                + ")";
    }

    private int[][] splitJointly(String prompt, String target) {
        int[] promptTokens = encode(prompt, true);
        int[] joint = encode(prompt + target, true);
        int common = commonPrefix(promptTokens, joint);
        return new int[][] {Arrays.copyOf(joint, common), Arrays.copyOfRange(joint, common, joint.length)};
    }

    /** The joint split of the ids' text and the target, keeping the given ids as the prompt (see {@link #prepare}). */
    private int[][] splitAfterIds(int[] ids, String target) {
        String text = tokenizer.decode(ids);
        int[] own = encode(text, true);
        int[] joint = encode(text + target, true);
        int common = commonPrefix(own, joint);
        int keep = Math.max(0, ids.length - (own.length - common));
        return new int[][] {Arrays.copyOf(ids, keep), Arrays.copyOfRange(joint, common, joint.length)};
    }

    /** The longest common prefix of the prompt's tokens and the joint ones, leaving at least one joint token. */
    private static int commonPrefix(int[] promptTokens, int[] joint) {
        int common = 0;
        while (common < promptTokens.length && common < joint.length - 1 && promptTokens[common] == joint[common]) {
            common++;
        }
        return common;
    }

    /** Why the request's text cannot fit the context whatever it tokenizes to, or null (see the class comment). */
    private String textTooLong(GenerationRequest request) {
        boolean promptText = request.promptTokenIds() == null;
        boolean targetText = request.targetTokenIds() == null && request.target() != null;
        long bytes = utf8Length(promptText ? request.prompt() : null) + utf8Length(targetText ? request.target() : null);
        long limit = (long) MAX_BYTES_PER_TOKEN * (contextLength + 1);
        if (bytes <= limit) {
            return null;
        }
        String what = promptText && targetText ? "prompt and target take " : promptText ? "prompt takes " : "target takes ";
        return what + bytes + " bytes of text, more than a context of " + contextLength + " tokens can hold (at most "
                + limit + " bytes, " + MAX_BYTES_PER_TOKEN + " per token); refused before tokenizing";
    }

    private static long utf8Length(String text) {
        if (text == null) {
            return 0;
        }
        long n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3; // a surrogate pair: 4 in all
        }
        return n;
    }

    private int[] encode(String text, boolean addSpecialTokens) {
        return tokenizer.encode(text, addSpecialTokens);
    }

    private void checkVocabulary(String what, int[] tokens) {
        for (int token : tokens) {
            if (token < 0 || token >= vocabularySize) {
                throw new InvalidRequestException(what + " token id " + token + " is outside the vocabulary [0, "
                        + vocabularySize + ")");
            }
        }
    }
}
