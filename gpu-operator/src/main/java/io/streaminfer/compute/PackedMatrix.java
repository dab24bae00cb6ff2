package io.streaminfer.compute;

/** A weight matrix in the layout a {@link MatmulKernel} wants; only that backend reads its contents. */
public interface PackedMatrix {
    /** Output features. */
    int rows();

    /** Input features (the reduction length). */
    int cols();

    /** Number of equal k-segments combined in the fixed tree order. */
    int segments();

    /** Bytes this matrix holds, for memory accounting. */
    long bytes();
}
