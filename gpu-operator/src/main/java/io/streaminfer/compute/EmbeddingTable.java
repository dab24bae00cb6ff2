package io.streaminfer.compute;

/** The (vocabulary, dim) token embedding as a backend reads it. */
public interface EmbeddingTable {
    int rows();

    int width();

    /** Bytes it holds on the device (0 when read in place from the checkpoint). */
    long bytes();
}
