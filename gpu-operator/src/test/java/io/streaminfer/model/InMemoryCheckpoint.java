package io.streaminfer.model;

import io.streaminfer.compute.WeightTensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A checkpoint held in memory: every tensor a configuration needs, with deterministic random weights (norm
 * weights near 1). For architectures the llama2.c format cannot express (explicit head_dim, biases, q/k
 * norms) in tests of one class.
 */
public final class InMemoryCheckpoint implements Checkpoint {
    private final ModelConfig config;
    private final Map<String, WeightTensor> tensors = new LinkedHashMap<>();

    public InMemoryCheckpoint(ModelConfig config, long seed) {
        this.config = config;
        Random random = new Random(seed);
        int dim = config.dim();
        put(TensorNames.TOKEN_EMBEDDING, config.vocabularySize(), dim, random, 1f, 0f);
        put(TensorNames.OUTPUT_NORM, 1, dim, random, 0.1f, 1f);
        if (!config.tiedEmbeddings()) {
            put(TensorNames.OUTPUT, config.vocabularySize(), dim, random, 1f, 0f);
        }
        float scale = (float) (1 / Math.sqrt(dim));
        for (int l = 0; l < config.numberOfLayers(); l++) {
            put(TensorNames.attentionNorm(l), 1, dim, random, 0.1f, 1f);
            put(TensorNames.ffnNorm(l), 1, dim, random, 0.1f, 1f);
            put(TensorNames.query(l), config.queryDim(), dim, random, scale, 0f);
            put(TensorNames.key(l), config.kvDim(), dim, random, scale, 0f);
            put(TensorNames.value(l), config.kvDim(), dim, random, scale, 0f);
            put(TensorNames.attentionOutput(l), dim, config.queryDim(), random, scale, 0f);
            put(TensorNames.ffnGate(l), config.hiddenDim(), dim, random, scale, 0f);
            put(TensorNames.ffnUp(l), config.hiddenDim(), dim, random, scale, 0f);
            put(TensorNames.ffnDown(l), dim, config.hiddenDim(), random, (float) (1 / Math.sqrt(config.hiddenDim())), 0f);
            if (config.attentionBias()) {
                put(TensorNames.queryBias(l), 1, config.queryDim(), random, 0.5f, 0f);
                put(TensorNames.keyBias(l), 1, config.kvDim(), random, 0.5f, 0f);
                put(TensorNames.valueBias(l), 1, config.kvDim(), random, 0.5f, 0f);
            }
            if (config.queryKeyNorm()) {
                put(TensorNames.queryNorm(l), 1, config.headDim(), random, 0.5f, 1f);
                put(TensorNames.keyNorm(l), 1, config.headDim(), random, 0.5f, 1f);
            }
        }
    }

    private void put(String name, int rows, int cols, Random random, float spread, float center) {
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = center + spread * (2 * random.nextFloat() - 1);
        }
        tensors.put(name, WeightTensor.ofFloats(name, rows, cols, values));
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public WeightTensor tensor(String name) {
        WeightTensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        return t;
    }

    @Override
    public List<String> tensorNames() {
        return List.copyOf(tensors.keySet());
    }

    @Override
    public void close() {
    }
}
