package io.streaminfer.model;

import io.streaminfer.compute.WeightTensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What every file-backed checkpoint shares: its configuration and its tensors by neutral name, mapped in
 * place. Closing drops the map; the OS unmaps the files once the tensors handed out are garbage.
 */
public abstract class MappedCheckpoint implements Checkpoint {
    private final Path path;
    private final ModelConfig config;
    private volatile Map<String, WeightTensor> tensors; // null once closed

    protected MappedCheckpoint(Path path, ModelConfig config, Map<String, WeightTensor> tensors) {
        this.path = path;
        this.config = config;
        this.tensors = tensors;
    }

    /** The file or directory the checkpoint was read from. */
    public Path path() {
        return path;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public boolean contains(String name) {
        return tensors().containsKey(name);
    }

    @Override
    public WeightTensor tensor(String name) {
        WeightTensor tensor = tensors().get(name);
        if (tensor == null) {
            throw new IllegalArgumentException(path + ": no tensor " + name);
        }
        return tensor;
    }

    @Override
    public List<String> tensorNames() {
        return List.copyOf(tensors().keySet());
    }

    private Map<String, WeightTensor> tensors() {
        Map<String, WeightTensor> current = tensors;
        if (current == null) {
            throw new IllegalStateException("checkpoint " + path + " is closed");
        }
        return current;
    }

    @Override
    public void close() {
        tensors = null;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + path + ", " + config + "]";
    }
}
