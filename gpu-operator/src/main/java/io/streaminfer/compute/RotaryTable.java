package io.streaminfer.compute;

/**
 * Precomputed rotary angles on a backend's device: cos and sin of (position, pair), and which features of
 * a head form pair i: (2i, 2i+1) for adjacent pairs, (i, i + headDim/2) for rotate-half.
 */
public interface RotaryTable {
    int positions();

    /** Pairs per head: headDim / 2. */
    int pairs();

    boolean adjacentPairs();
}
