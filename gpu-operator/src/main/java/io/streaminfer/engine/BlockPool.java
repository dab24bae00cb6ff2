package io.streaminfer.engine;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * The KV blocks of a replica as numbers: who holds each (a reference count), which are free, and which
 * hold a cached prefix. Pure bookkeeping, no model; not thread-safe (the replica's driver owns it).
 *
 * <p>A full block can be <em>registered</em> under the exact content that produced its keys and values:
 * its tokens and the registration of the block before it ({@link Key}), so equal keys mean the same tokens
 * at the same positions after the same prefix. Nothing else changes a block's content here: one replica
 * serves one model, and the kernels are batch- and chunk-invariant (a LoRA adapter or a KV dtype would
 * have to join the key). Registration ids are never reused, so a key that names an evicted block's
 * registration can never match again.
 *
 * <p>A registered block is <em>filled</em> once every position of it has been handed to a step (steps run
 * in order, so a later step reads what it wrote). Unreferenced blocks that are registered and filled stay
 * cached and are evicted least recently released first; every other unreferenced block is free.
 */
final class BlockPool {
    /** What produced a block's content: the registration of the block before it (0: none) and its tokens. */
    record Key(long parent, int[] tokens) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.parent == parent && Arrays.equals(k.tokens, tokens);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(parent) * 31 + Arrays.hashCode(tokens);
        }
    }

    private final int blockSize;
    private final int[] references;        // (blocks)
    private final boolean[] filled;        // (blocks)
    private final Key[] keys;              // (blocks) null: not registered
    private final long[] registrations;    // (blocks) id of the current registration, 0: none
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final LinkedHashSet<Integer> evictable = new LinkedHashSet<>(); // oldest release first
    private final Map<Key, Integer> cached = new HashMap<>();
    private long lastRegistration;

    BlockPool(int blocks, int blockSize) {
        if (blocks < 1 || blockSize < 1) {
            throw new IllegalArgumentException("a block pool needs blocks and positions, got " + blocks + " x "
                    + blockSize);
        }
        this.blockSize = blockSize;
        this.references = new int[blocks];
        this.filled = new boolean[blocks];
        this.keys = new Key[blocks];
        this.registrations = new long[blocks];
        for (int b = 0; b < blocks; b++) {
            free.add(b);
        }
    }

    int blocks() {
        return references.length;
    }

    int blockSize() {
        return blockSize;
    }

    /** Blocks a new allocation may take: free ones and cached ones nobody holds. */
    int available() {
        return free.size() + evictable.size();
    }

    /** Registered blocks (held or not): the prefix cache. */
    int cachedBlocks() {
        return cached.size();
    }

    /** Blocks some sequence holds. */
    int inUse() {
        return blocks() - available();
    }

    /** A fresh block with one reference, evicting the least recently released cached one if none is free; -1 if none. */
    int allocate() {
        Integer block = free.poll();
        if (block == null) {
            Iterator<Integer> oldest = evictable.iterator();
            if (!oldest.hasNext()) {
                return -1;
            }
            block = oldest.next();
            oldest.remove();
            unregister(block);
        }
        references[block] = 1;
        filled[block] = false;
        return block;
    }

    /** The cached block with this content, or -1. */
    int lookup(Key key) {
        Integer block = cached.get(key);
        return block == null ? -1 : block;
    }

    /** One more reference to a registered block (a prefix hit); it stops being evictable. */
    void acquire(int block) {
        if (keys[block] == null) {
            throw new IllegalStateException("block " + block + " is not cached");
        }
        if (references[block]++ == 0) {
            evictable.remove(block);
        }
    }

    boolean isEvictable(int block) {
        return references[block] == 0 && keys[block] != null;
    }

    /**
     * Registers a held block under its content, unless a block with that content is already cached (then
     * this one stays unregistered and is freed when given back).
     *
     * @return the registration id of the content (this block's or the cached twin's): the parent of the
     *     next block's key
     */
    long register(int block, Key key) {
        if (references[block] < 1 || keys[block] != null) {
            throw new IllegalStateException("block " + block + " is not held or already registered");
        }
        Integer twin = cached.get(key);
        if (twin != null) {
            return registrations[twin];
        }
        keys[block] = key;
        registrations[block] = ++lastRegistration;
        cached.put(key, block);
        return registrations[block];
    }

    /** The registration id of a cached block (the parent of the next block's key). */
    long registration(int block) {
        return registrations[block];
    }

    void markFilled(int block) {
        filled[block] = true;
    }

    boolean isFilled(int block) {
        return filled[block];
    }

    /**
     * Drops one reference. A block nobody holds stays cached (registered and filled) or becomes free.
     * A block its writer gives back before filling it can never be filled: it leaves the cache at once,
     * and whoever still holds it sees it unregistered and unfilled ({@link #isOrphan}).
     */
    void release(int block, boolean writer) {
        if (references[block] < 1) {
            throw new IllegalStateException("block " + block + " is not held");
        }
        references[block]--;
        if (writer && !filled[block]) {
            unregister(block);
        }
        if (references[block] == 0) {
            if (keys[block] != null && filled[block]) {
                evictable.add(block);
            } else {
                unregister(block);
                free.add(block);
            }
        }
    }

    /** Whether a held prefix block will never be filled: its writer gave it back first. */
    boolean isOrphan(int block) {
        return !filled[block] && keys[block] == null;
    }

    int references(int block) {
        return references[block];
    }

    private void unregister(int block) {
        if (keys[block] != null) {
            cached.remove(keys[block]);
            keys[block] = null;
            registrations[block] = 0;
        }
    }
}
