package io.streaminfer.model;

import io.streaminfer.compute.WeightTensor;
import java.util.List;

/**
 * A model's configuration and its named tensors, read in place (memory-mapped) whatever the file format:
 * llama2.c ({@link Llama2cCheckpoint}), and the Hugging Face and GGUF readers that follow it. Tensor names
 * are the format-neutral ones of {@link TensorNames}; each rank cuts its own shard from them at load time.
 */
public interface Checkpoint extends AutoCloseable {
    ModelConfig config();

    /** Whether the checkpoint holds a tensor of that name. */
    boolean contains(String name);

    /**
     * The tensor named {@code name}.
     *
     * @throws IllegalArgumentException naming the tensor when the checkpoint has none of that name
     */
    WeightTensor tensor(String name);

    /** Every name {@link #tensor} accepts. */
    List<String> tensorNames();

    /** Releases the mapping (tensors must not be used afterwards). */
    @Override
    void close();
}
