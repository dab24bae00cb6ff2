package io.streaminfer.compute;

/** A (rows, width) fp32 buffer on a backend's device; only that backend reads its contents. */
public interface ActivationBuffer {
    int rows();

    int width();
}
