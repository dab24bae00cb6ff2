package io.streaminfer.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * tokenizer.json's {@code "model": {"type": "BPE"}}: a piece's characters become symbols, and the adjacent
 * pair with the lowest merge rank (the leftmost on ties) merges until none is left, in O(n log n) with a
 * {@link MergeQueue}. A character outside the vocabulary becomes its UTF-8 byte tokens {@code <0xXX>} with
 * {@code byte_fallback}, else the unknown token (consecutive ones fused with {@code fuse_unk}), else nothing.
 * With {@code ignore_merges} a piece that is itself in the vocabulary is one token. Immutable; its cache of
 * encoded pieces is concurrent, so one instance serves every thread.
 */
final class BpeModel {
    /** Pieces longer than this are not cached (JavaScript's and Rust's implementations choose alike). */
    private static final int MAX_CACHED_LENGTH = 256;
    private static final int CACHE_CAPACITY = 50_000;

    private final Map<String, Integer> vocab;
    private final int[] idOfBmpChar;      // (65536) id of each single-char token in the BMP, -1 if none
    private final PairTable merges;
    private final int[] byteToken;        // (256) id of <0xXX>, -1 if absent; null without byte_fallback
    private final int unknown;            // id of unk_token, or -1
    private final boolean fuseUnknown;
    private final boolean ignoreMerges;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeModel(Map<String, Integer> vocab, PairTable merges, boolean byteFallback, int unknown,
            boolean fuseUnknown, boolean ignoreMerges) {
        this.vocab = vocab;
        this.idOfBmpChar = singleCharIds(vocab);
        this.merges = merges;
        this.byteToken = byteFallback ? byteTokens(vocab) : null;
        this.unknown = unknown;
        this.fuseUnknown = fuseUnknown;
        this.ignoreMerges = ignoreMerges;
    }

    /** (65536) The id of each single-char token in the BMP, -1 if none. */
    private static int[] singleCharIds(Map<String, Integer> vocab) {
        int[] ids = new int[65536];
        Arrays.fill(ids, -1);
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (e.getKey().length() == 1) {
                ids[e.getKey().charAt(0)] = e.getValue();
            }
        }
        return ids;
    }

    /** (256) The id of each {@code <0xXX>} token, -1 if absent. */
    private static int[] byteTokens(Map<String, Integer> vocab) {
        int[] ids = new int[256];
        for (int b = 0; b < 256; b++) {
            ids[b] = vocab.getOrDefault(String.format("<0x%02X>", b), -1);
        }
        return ids;
    }

    /** @throws IllegalArgumentException naming what is unsupported or inconsistent */
    static BpeModel fromJson(JsonNode model) {
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw new IllegalArgumentException("unsupported model type '" + type + "' (supported: BPE)");
        }
        for (String field : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!model.path(field).asText("").isEmpty()) {
                throw new IllegalArgumentException("unsupported BPE option " + field + "=" + model.get(field));
            }
        }
        JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0) {
            throw new IllegalArgumentException("unsupported BPE option dropout=" + dropout + " (it is random)");
        }
        JsonNode vocabNode = model.get("vocab");
        if (vocabNode == null || !vocabNode.isObject()) {
            throw new IllegalArgumentException("BPE model without a \"vocab\" object");
        }
        Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        JsonNode mergesNode = Json.array(model, "merges");
        if (mergesNode.size() >= (1 << 24)) {
            throw new IllegalArgumentException("more than 2^24 merges");
        }
        PairTable merges = new PairTable(mergesNode.size());
        int rank = 0;
        for (JsonNode merge : mergesNode) {
            String left;
            String right;
            if (merge.isArray() && merge.size() == 2) {
                left = merge.get(0).asText();
                right = merge.get(1).asText();
            } else {
                String s = merge.asText();
                int space = s.indexOf(' ', 1);
                if (!merge.isTextual() || space < 0 || s.indexOf(' ', space + 1) >= 0) {
                    throw new IllegalArgumentException("merge " + rank + " is not \"a b\" or [\"a\", \"b\"]: " + merge);
                }
                left = s.substring(0, space);
                right = s.substring(space + 1);
            }
            Integer a = vocab.get(left);
            Integer b = vocab.get(right);
            Integer ab = vocab.get(left + right);
            if (a == null || b == null || ab == null) {
                throw new IllegalArgumentException("merge " + rank + " " + merge + " uses a token outside the vocabulary");
            }
            merges.putIfAbsent(a, b, rank, ab);
            rank++;
        }
        String unkToken = model.path("unk_token").isTextual() ? model.get("unk_token").asText() : null;
        Integer unk = unkToken == null ? null : vocab.get(unkToken);
        if (unkToken != null && unk == null) {
            throw new IllegalArgumentException("unk_token '" + unkToken + "' is not in the vocabulary");
        }
        return new BpeModel(vocab, merges, model.path("byte_fallback").asBoolean(false), unk == null ? -1 : unk,
                model.path("fuse_unk").asBoolean(false), model.path("ignore_merges").asBoolean(false));
    }

    Map<String, Integer> vocab() {
        return vocab;
    }

    /** Appends the ids of one pre-tokenized piece. */
    void encode(String piece, IntList out) {
        if (piece.isEmpty()) {
            return;
        }
        if (piece.length() == 1 && idOfBmpChar[piece.charAt(0)] >= 0) { // one symbol: nothing to merge
            out.add(idOfBmpChar[piece.charAt(0)]);
            return;
        }
        if (ignoreMerges) {
            Integer whole = vocab.get(piece);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        boolean cacheable = piece.length() < MAX_CACHED_LENGTH;
        int[] ids = cacheable ? cache.get(piece) : null;
        if (ids == null) {
            ids = merge(piece);
            if (cacheable) {
                if (cache.size() >= CACHE_CAPACITY) {
                    cache.clear(); // bounded; a cleared cache only costs recomputation
                }
                cache.put(piece, ids);
            }
        }
        out.addAll(ids);
    }

    private int[] merge(String piece) {
        int n = piece.codePointCount(0, piece.length());
        int[] id = new int[n];        // (n) token of the symbol starting at each position; -1 = unknown char
        int[] start = new int[n + 1]; // (n + 1) char offset of each position in the piece
        int[] next = new int[n];      // (n) position of the next live symbol, n at the end; -1 once merged away
        int[] previous = new int[n];  // (n) position of the previous live symbol, -1 at the start
        for (int i = 0, offset = 0; i < n; i++) {
            int cp = piece.codePointAt(offset);
            start[i] = offset;
            id[i] = cp < 65536 ? idOfBmpChar[cp] : vocab.getOrDefault(new String(Character.toChars(cp)), -1);
            offset += Character.charCount(cp);
            next[i] = i + 1;
            previous[i] = i - 1;
        }
        start[n] = piece.length();
        MergeQueue queue = new MergeQueue(n);
        for (int i = 0; i + 1 < n; i++) {
            push(queue, id, i, i + 1);
        }
        while (!queue.isEmpty()) {
            long key = queue.pop();
            int left = MergeQueue.position(key);
            int right = next[left];
            if (right < 0 || right >= n) {
                continue; // merged away, or the last symbol now
            }
            long entry = merges.get(id[left], id[right]);
            if (entry < 0 || MergeQueue.rankKey((int) (entry >>> 32), left) != key) {
                continue; // stale: the pair at this position changed
            }
            id[left] = (int) entry;
            int after = next[right];
            next[right] = -1;
            next[left] = after;
            if (after < n) {
                previous[after] = left;
                push(queue, id, left, after);
            }
            if (previous[left] >= 0) {
                push(queue, id, previous[left], left);
            }
        }
        IntList out = new IntList(n);
        boolean lastWasFusedUnknown = false;
        for (int i = 0; i < n; i = next[i]) {
            if (id[i] >= 0) {
                out.add(id[i]);
                lastWasFusedUnknown = false;
            } else if (!appendBytes(piece.substring(start[i], start[i + 1]), out) // unknowns never merge
                    && unknown >= 0) {
                if (!(fuseUnknown && lastWasFusedUnknown)) {
                    out.add(unknown);
                }
                lastWasFusedUnknown = fuseUnknown;
            }
        }
        return out.toArray();
    }

    private void push(MergeQueue queue, int[] id, int left, int right) {
        if (id[left] >= 0 && id[right] >= 0) {
            long entry = merges.get(id[left], id[right]);
            if (entry >= 0) {
                queue.push(MergeQueue.rankKey((int) (entry >>> 32), left));
            }
        }
    }

    /** Byte fallback of an unknown character; false when there is none (no byte_fallback, or a byte missing). */
    private boolean appendBytes(String character, IntList out) {
        if (byteToken == null) {
            return false;
        }
        byte[] bytes = ByteLevelAlphabet.utf8(character);
        for (byte b : bytes) {
            if (byteToken[b & 0xFF] < 0) {
                return false;
            }
        }
        for (byte b : bytes) {
            out.add(byteToken[b & 0xFF]);
        }
        return true;
    }

    /** Open addressing from a pair of ids to (rank << 32 | merged id): no boxing on the merge path. */
    static final class PairTable {
        private final long[] keys;
        private final long[] values;
        private final int mask;

        PairTable(int expected) {
            int capacity = Integer.highestOneBit(Math.max(4, expected) * 2) * 2;
            keys = new long[capacity];
            values = new long[capacity];
            Arrays.fill(keys, -1L);
            mask = capacity - 1;
        }

        void putIfAbsent(int left, int right, int rank, int merged) {
            long key = ((long) left << 32) | (right & 0xFFFFFFFFL);
            int slot = slot(key);
            while (keys[slot] != -1L) {
                if (keys[slot] == key) {
                    return; // the first (lowest-ranked) merge of a pair wins
                }
                slot = (slot + 1) & mask;
            }
            keys[slot] = key;
            values[slot] = ((long) rank << 32) | (merged & 0xFFFFFFFFL);
        }

        /** (rank << 32 | merged), or -1. */
        long get(int left, int right) {
            long key = ((long) left << 32) | (right & 0xFFFFFFFFL);
            int slot = slot(key);
            while (true) {
                long k = keys[slot];
                if (k == key) {
                    return values[slot];
                }
                if (k == -1L) {
                    return -1L;
                }
                slot = (slot + 1) & mask;
            }
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 32) & mask;
        }
    }
}
