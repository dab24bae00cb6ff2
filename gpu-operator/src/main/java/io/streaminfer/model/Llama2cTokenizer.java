package io.streaminfer.model;

import io.streaminfer.model.tokenizer.MergeQueue;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The SentencePiece-style BPE tokenizer of llama2.c ({@code tokenizer.bin}), encoding exactly as run.c's
 * {@code encode} does. Immutable and safe to share between threads.
 *
 * <p>File format (little-endian): int32 max_token_length, then per entry: float32 score, int32 length, bytes.
 * The same algorithm reads other SentencePiece vocabularies given piece by piece ({@link #of}: a GGUF file's).
 */
public final class Llama2cTokenizer implements TextTokenizer {

    public static final int UNKNOWN = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;
    /** Byte tokens {@code <0x00>..<0xFF>} start here (after unk, bos, eos). */
    private static final int FIRST_BYTE_TOKEN = 3;
    /** run.c's starting "best score": pairs scoring at or below it are never merged. */
    private static final float NO_MERGE = -1e10f;

    private final byte[][] pieces;            // (vocab) raw bytes of each piece
    private final float[] scores;             // (vocab) merge priority
    private final int maxTokenLength;
    private final Map<ByteString, Integer> idOfPiece;  // lowest id for each distinct piece
    private final int[] canonicalId;          // (vocab) lowest id with the same piece
    private final Map<Long, Integer> mergeOf; // (canonical left, canonical right) -> id of the concatenation
    private final byte[][] decodedPiece;      // (vocab) what decoding emits: a raw byte for <0xXX> pieces
    private final int dummyPrefix;            // id of " ", or -1
    private final Specials specials;
    private final int[] byteToken;            // (256) the token of each byte for byte fallback, or -1

    /**
     * What a vocabulary's rules are: BOS and EOS ids (-1: none), whether {@link #encode(String, boolean)}
     * adds them, whether non-empty text gets the dummy-prefix space, and llama.cpp's rules ({@code llamaCpp}:
     * U+2581 in the text is a space; without a " " piece the prefix is the space's byte token) or run.c's.
     */
    public record Specials(int bos, int eos, boolean addBos, boolean addEos, boolean spacePrefix, boolean llamaCpp) {}

    private static final Specials LLAMA2C = new Specials(BOS, EOS, true, false, true, false);

    private Llama2cTokenizer(byte[][] pieces, float[] scores, int maxTokenLength, byte[][] decodedPiece,
                             int[] byteToken, Specials specials) {
        this.pieces = pieces;
        this.scores = scores;
        this.maxTokenLength = maxTokenLength;
        int vocab = pieces.length;
        this.idOfPiece = new HashMap<>(vocab * 2);
        this.canonicalId = new int[vocab];
        for (int id = 0; id < vocab; id++) {
            Integer first = idOfPiece.putIfAbsent(new ByteString(pieces[id]), id);
            canonicalId[id] = first == null ? id : first;
        }
        this.mergeOf = merges(pieces, idOfPiece, canonicalId);
        this.decodedPiece = decodedPiece;
        Integer space = idOfPiece.get(new ByteString(new byte[] {' '}));
        this.dummyPrefix = space == null ? -1 : space;
        this.specials = specials;
        this.byteToken = byteToken;
    }

    /**
     * Every way to split a piece into two pieces is a merge; looking pairs up by id avoids building strings
     * while encoding, and gives the same answer as looking up the concatenated string.
     */
    private static Map<Long, Integer> merges(byte[][] pieces, Map<ByteString, Integer> idOfPiece, int[] canonicalId) {
        Map<Long, Integer> mergeOf = new HashMap<>();
        for (int id = 0; id < pieces.length; id++) {
            byte[] piece = pieces[id];
            for (int split = 1; split < piece.length; split++) {
                Integer left = idOfPiece.get(new ByteString(Arrays.copyOfRange(piece, 0, split)));
                Integer right = left == null ? null
                        : idOfPiece.get(new ByteString(Arrays.copyOfRange(piece, split, piece.length)));
                if (right != null) {
                    mergeOf.putIfAbsent(pairKey(left, right), canonicalId[id]);
                }
            }
        }
        return mergeOf;
    }

    /**
     * Loads the first {@code vocabularySize} entries of a llama2.c tokenizer file.
     *
     * @throws IOException naming the file and the entry where it ends early or is malformed
     */
    public static Llama2cTokenizer load(Path file, int vocabularySize) throws IOException {
        if (vocabularySize <= 0) {
            throw new IllegalArgumentException("vocabularySize must be > 0, got " + vocabularySize);
        }
        try (InputStream in = Files.newInputStream(file);
             DataInputStream data = new DataInputStream(new java.io.BufferedInputStream(in, 1 << 16))) {
            int maxTokenLength = readIntLE(data, file, "max_token_length");
            if (maxTokenLength <= 0) {
                throw new IOException(file + ": max_token_length must be > 0, got " + maxTokenLength);
            }
            byte[][] pieces = new byte[vocabularySize][];
            float[] scores = new float[vocabularySize];
            for (int id = 0; id < vocabularySize; id++) {
                String where = "entry " + id + " of the " + vocabularySize + " the model needs";
                scores[id] = Float.intBitsToFloat(readIntLE(data, file, where));
                int length = readIntLE(data, file, where);
                if (length < 0 || length > maxTokenLength) {
                    throw new IOException(file + ": " + where + " has length " + length
                            + ", outside [0, max_token_length=" + maxTokenLength + "]");
                }
                pieces[id] = new byte[length];
                try {
                    data.readFully(pieces[id]);
                } catch (EOFException e) {
                    throw new IOException(file + ": the file ends inside " + where
                            + " (the tokenizer has fewer entries than the model's vocabulary)", e);
                }
            }
            byte[][] decoded = new byte[vocabularySize][];
            for (int id = 0; id < vocabularySize; id++) {
                int rawByte = byteTokenValue(pieces[id]);
                boolean silent = id == BOS || id == EOS;
                decoded[id] = silent ? new byte[0] : rawByte >= 0 ? new byte[] {(byte) rawByte} : pieces[id];
            }
            int[] byteTokens = new int[256];
            for (int b = 0; b < 256; b++) {
                byteTokens[b] = b + FIRST_BYTE_TOKEN < vocabularySize ? b + FIRST_BYTE_TOKEN : -1;
            }
            return new Llama2cTokenizer(pieces, scores, maxTokenLength, decoded, byteTokens, LLAMA2C);
        }
    }

    /**
     * A vocabulary given piece by piece, encoded with run.c's merges and the given rules.
     *
     * @param pieces (vocab) the bytes each token matches in the text, spaces as ' '
     * @param scores (vocab) merge priority
     * @param decoded (vocab) the bytes each token decodes to (nothing for control tokens)
     * @param byteTokens (256) the token each byte falls back to when its character is no piece, or -1
     */
    public static Llama2cTokenizer of(byte[][] pieces, float[] scores, byte[][] decoded, int[] byteTokens,
                                      Specials specials) {
        int vocab = pieces.length;
        if (vocab == 0 || scores.length != vocab || decoded.length != vocab || byteTokens.length != 256) {
            throw new IllegalArgumentException("a vocabulary needs one score and one decoded form per piece, and 256 "
                    + "byte tokens: " + vocab + " pieces, " + scores.length + " scores, " + decoded.length + " decoded");
        }
        if (Math.min(specials.bos(), specials.eos()) < -1 || Math.max(specials.bos(), specials.eos()) >= vocab) {
            throw new IllegalArgumentException("BOS " + specials.bos() + " or EOS " + specials.eos()
                    + " is outside the vocabulary of " + vocab);
        }
        int maxLength = Arrays.stream(pieces).mapToInt(p -> p.length).max().orElse(1);
        return new Llama2cTokenizer(pieces.clone(), scores.clone(), Math.max(1, maxLength), decoded.clone(),
                byteTokens.clone(), specials);
    }

    private static int readIntLE(DataInputStream data, Path file, String where) throws IOException {
        try {
            return Integer.reverseBytes(data.readInt());
        } catch (EOFException e) {
            throw new IOException(file + ": the file ends before " + where
                    + " (the tokenizer has fewer entries than the model's vocabulary)", e);
        }
    }

    @Override
    public int vocabularySize() {
        return pieces.length;
    }

    public int maxTokenLength() {
        return maxTokenLength;
    }

    /** The piece of a token as stored (byte tokens read "<0xXX>"), decoded as UTF-8. */
    public String piece(int id) {
        checkId(id);
        return new String(pieces[id], StandardCharsets.UTF_8);
    }

    public float score(int id) {
        checkId(id);
        return scores[id];
    }

    /** The id of an exact piece, or -1. */
    public int lookup(String piece) {
        Integer id = idOfPiece.get(new ByteString(piece.getBytes(StandardCharsets.UTF_8)));
        return id == null ? -1 : id;
    }

    /**
     * Encodes text as run.c does: optional BOS, the dummy-prefix " " token for non-empty text, one token per
     * UTF-8 code point (or one per byte, id = byte + 3, when the code point is not a piece), then repeated
     * merges of the adjacent pair whose concatenation is the best-scoring piece (the first such pair on ties),
     * then optional EOS. Unlike C strings, a U+0000 in the text is encoded (as a byte token), not an end.
     */
    public int[] encode(String text, boolean bos, boolean eos) {
        if (text == null) {
            throw new IllegalArgumentException("cannot encode null text");
        }
        int[] symbols = unmergedSymbols(text, bos);
        int[] tokens = Arrays.copyOf(symbols, symbols.length + 1);
        int n = mergePairs(tokens, symbols.length);
        if (eos && specials.eos() >= 0) {
            tokens[n++] = specials.eos();
        }
        return Arrays.copyOf(tokens, n);
    }

    /** Groups a lead byte with up to three following continuation bytes, exactly as run.c scans. */
    private int appendCodePoints(byte[] utf8, int[] tokens, int n) {
        int start = 0;
        while (start < utf8.length) {
            int end = start + 1;
            while (end < utf8.length && isContinuation(utf8[end]) && end - start < 4) {
                end++;
            }
            Integer id = idOfPiece.get(new ByteString(Arrays.copyOfRange(utf8, start, end)));
            if (id != null) {
                tokens[n++] = id;
            } else {
                for (int i = start; i < end; i++) {
                    int byteToken = this.byteToken[utf8[i] & 0xFF];
                    if (byteToken < 0) {
                        throw new IllegalArgumentException("byte 0x" + Integer.toHexString(utf8[i] & 0xFF)
                                + " has no byte token in a vocabulary of " + pieces.length);
                    }
                    tokens[n++] = byteToken;
                }
            }
            start = end;
        }
        return n;
    }

    private static boolean isContinuation(byte b) {
        return (b & 0xC0) == 0x80;
    }

    /**
     * Merges in place and returns the new length: repeatedly the adjacent pair whose merge scores best, the
     * leftmost on ties, exactly as run.c's rescan of every pair, in O(n log n). Symbols form a linked list
     * over their first positions; a {@link MergeQueue} holds candidate pairs keyed by (score desc, position
     * asc), and a popped candidate merges only if the pair now at its position still has its key.
     */
    private int mergePairs(int[] tokens, int n) {
        if (n < 2) {
            return n;
        }
        int[] next = new int[n];     // (n) position of the next live symbol, n at the end; -1 once merged away
        int[] previous = new int[n]; // (n) position of the previous live symbol, -1 at the start
        for (int i = 0; i < n; i++) {
            next[i] = i + 1;
            previous[i] = i - 1;
        }
        MergeQueue queue = new MergeQueue(n);
        for (int i = 0; i + 1 < n; i++) {
            push(queue, tokens, i, i + 1);
        }
        int live = n;
        while (!queue.isEmpty()) {
            long key = queue.pop();
            int left = MergeQueue.position(key);
            int right = next[left];
            if (right < 0 || right >= n) {
                continue; // merged away, or the last symbol now
            }
            int merged = merge(tokens[left], tokens[right]);
            if (merged < 0 || MergeQueue.scoreKey(scores[merged], left) != key) {
                continue; // stale: the pair at this position changed
            }
            tokens[left] = merged;
            int after = next[right];
            next[right] = -1;
            next[left] = after;
            live--;
            if (after < n) {
                previous[after] = left;
                push(queue, tokens, left, after);
            }
            if (previous[left] >= 0) {
                push(queue, tokens, previous[left], left);
            }
        }
        int out = 0;
        for (int i = 0; i < n; i = next[i]) {
            tokens[out++] = tokens[i];
        }
        if (out != live) {
            throw new IllegalStateException("merge bookkeeping lost symbols: " + out + " != " + live);
        }
        return out;
    }

    /** Queues the pair (left, right) if it merges into a piece that run.c would ever pick. */
    private void push(MergeQueue queue, int[] tokens, int left, int right) {
        int merged = merge(tokens[left], tokens[right]);
        if (merged >= 0 && scores[merged] > NO_MERGE) { // as run.c: NaN and scores <= -1e10 never merge
            queue.push(MergeQueue.scoreKey(scores[merged], left));
        }
    }

    /** The merge run.c would make of two adjacent tokens: the id of their concatenated piece, or -1. */
    int mergedPiece(int left, int right) {
        return merge(left, right);
    }

    /** The tokens run.c starts merging from: optional BOS, the dummy prefix, code points or bytes. */
    int[] unmergedSymbols(String text, boolean bos) {
        byte[] utf8 = (specials.llamaCpp() ? text.replace('\u2581', ' ') : text).getBytes(StandardCharsets.UTF_8);
        int[] tokens = new int[utf8.length + 2];
        int n = 0;
        if (bos && specials.bos() >= 0) {
            tokens[n++] = specials.bos();
        }
        if (utf8.length > 0 && specials.spacePrefix()) {
            if (dummyPrefix >= 0) {
                tokens[n++] = dummyPrefix;
            } else if (specials.llamaCpp()) {
                n = appendCodePoints(new byte[] {' '}, tokens, n);
            } else {
                throw new IllegalStateException("the vocabulary has no \" \" piece for the dummy prefix");
            }
        }
        return Arrays.copyOf(tokens, appendCodePoints(utf8, tokens, n));
    }

    private int merge(int left, int right) {
        Integer merged = mergeOf.get(pairKey(canonicalId[left], canonicalId[right]));
        return merged == null ? -1 : merged;
    }

    private static long pairKey(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /**
     * The bytes tokens stand for: pieces concatenated, {@code <0xXX>} pieces as the raw byte XX, BOS and EOS
     * (and other control tokens of a vocabulary given by {@link #of}) as nothing, and the leading space dropped
     * from a piece that follows BOS (run.c's rule, where the dummy prefix is added; BOS may be
     * {@code previousToken} or inside the array).
     *
     * @param previousToken the token before {@code tokens[0]}, or -1 if none
     */
    public byte[] decodeBytes(int[] tokens, int previousToken) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(tokens.length * 4);
        int previous = previousToken;
        for (int token : tokens) {
            checkId(token);
            byte[] piece = decodedPiece[token];
            boolean afterBos = previous >= 0 && previous == specials.bos() && specials.spacePrefix();
            int skip = afterBos && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            out.write(piece, skip, piece.length - skip);
            previous = token;
        }
        return out.toByteArray();
    }

    /**
     * Decodes tokens to text (see {@link #decodeBytes}); the bytes are joined before UTF-8 decoding, so a
     * character split over byte tokens comes out whole; malformed sequences become U+FFFD.
     */
    public String decode(int[] tokens, int previousToken) {
        return decodeUtf8(decodeBytes(tokens, previousToken));
    }

    /**
     * run.c's encoding: the dummy-prefix space always, BOS when special tokens are asked for (a vocabulary
     * given by {@link #of}: its rules).
     */
    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        return encode(text, addSpecialTokens && specials.addBos(), addSpecialTokens && specials.addEos());
    }

    @Override
    public String decode(int[] ids) {
        return decode(ids, -1);
    }

    /** Pieces per token, as {@link #decodeBytes}; the last context token decides the BOS space rule. */
    @Override
    public StreamDecoder streamDecoder(int[] context) {
        int last = context == null || context.length == 0 ? -1 : context[context.length - 1];
        return new StreamDecoder() {
            private int previous = last;
            private final Utf8Stream utf8 = new Utf8Stream();

            @Override
            public String next(int token) {
                byte[] bytes = decodeBytes(new int[] {token}, previous);
                previous = token;
                return utf8.push(bytes);
            }

            @Override
            public String finish() {
                return utf8.finish();
            }
        };
    }

    /** Lenient UTF-8 decoding: malformed or truncated sequences become U+FFFD. */
    public static String decodeUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        try {
            CharBuffer chars = decoder.decode(ByteBuffer.wrap(bytes));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException("UTF-8 decoding with REPLACE cannot fail", e);
        }
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " out of range [0, " + pieces.length + ")");
        }
    }

    /** The byte of a {@code <0xXX>} piece, or -1 for any other piece. */
    private static int byteTokenValue(byte[] piece) {
        if (piece.length != 6 || piece[0] != '<' || piece[1] != '0' || piece[2] != 'x' || piece[5] != '>') {
            return -1;
        }
        int high = Character.digit(piece[3], 16);
        int low = Character.digit(piece[4], 16);
        return high < 0 || low < 0 ? -1 : high * 16 + low;
    }

    /** A byte string with value equality, as a map key. */
    private static final class ByteString {
        private final byte[] bytes;
        private final int hash;

        ByteString(byte[] bytes) {
            this.bytes = bytes;
            this.hash = Arrays.hashCode(bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ByteString other && hash == other.hash && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
