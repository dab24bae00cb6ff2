package io.streaminfer.compute;

/** The shape every CPU kernel's packed matrix has: n outputs, k inputs, summed in {@code segments} segments. */
abstract class KernelMatrix implements PackedMatrix {
    final int n;
    final int k;
    final int segments;

    KernelMatrix(int n, int k, int segments) {
        this.n = n;
        this.k = k;
        this.segments = segments;
    }

    @Override
    public final int rows() {
        return n;
    }

    @Override
    public final int cols() {
        return k;
    }

    @Override
    public final int segments() {
        return segments;
    }
}
