package io.streaminfer.model.tokenizer;

/**
 * One entry of tokenizer.json's {@code added_tokens}: text matched in the input before normalization
 * ({@code normalized: false}) or after it, which becomes one id. Special tokens are left out of decoding.
 *
 * @param singleWord match only where no word character touches either end
 * @param leftStrip the match swallows the whitespace on its left
 * @param rightStrip the match swallows the whitespace on its right
 */
public record AddedToken(int id, String content, boolean special, boolean normalized, boolean singleWord,
        boolean leftStrip, boolean rightStrip) {
    public AddedToken {
        if (content == null || content.isEmpty()) {
            throw new IllegalArgumentException("added token " + id + " has no content");
        }
    }
}
