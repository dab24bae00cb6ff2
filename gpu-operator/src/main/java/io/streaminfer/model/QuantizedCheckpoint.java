package io.streaminfer.model;

import io.streaminfer.compute.Quantize;
import io.streaminfer.compute.StorageKind;
import io.streaminfer.compute.WeightTensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Another checkpoint with its matrices converted to one storage kind at load (norms and biases stay fp32),
 * to measure every kind on the same shape. The converted tensors live on the heap.
 */
public final class QuantizedCheckpoint implements Checkpoint {
    private final Checkpoint source;
    private final StorageKind kind;
    private final Map<String, WeightTensor> converted = new HashMap<>();

    public QuantizedCheckpoint(Checkpoint source, StorageKind kind) {
        this.source = source;
        this.kind = kind;
    }

    @Override
    public ModelConfig config() {
        return source.config();
    }

    @Override
    public boolean contains(String name) {
        return source.contains(name);
    }

    @Override
    public synchronized WeightTensor tensor(String name) {
        WeightTensor t = source.tensor(name);
        if (t.rows() == 1 || t.cols() % kind.blockSize() != 0) {
            return t; // a vector, or a matrix whose rows do not split into blocks (llama.cpp keeps those too)
        }
        return converted.computeIfAbsent(name, n -> Quantize.to(kind, t));
    }

    @Override
    public List<String> tensorNames() {
        return source.tensorNames();
    }

    @Override
    public void close() {
        converted.clear();
        source.close();
    }
}
