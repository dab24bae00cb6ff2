package io.streaminfer.compute;

/** A fp32 vector on a backend's device (norm weights, biases). */
public interface WeightVector {
    int length();
}
