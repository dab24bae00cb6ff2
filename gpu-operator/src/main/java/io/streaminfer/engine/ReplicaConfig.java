package io.streaminfer.engine;

import io.streaminfer.model.StageSpec;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/**
 * Everything a replica needs to start. Serializable: the Flink job ships it to every subtask.
 *
 * @param modelPath llama2.c checkpoint
 * @param tokenizerPath llama2.c tokenizer.bin
 * @param modelName name records carry (and prompts may ask for)
 * @param tensorParallelSize TP degree: rank threads of the worker group
 * @param backend compute backend name: vector, openblas or scalar
 * @param threadsPerRank compute threads each rank's backend owns
 * @param maxBatch most sequences running (decoded together) at once
 * @param maxContext positions per slot, at most the model's context length; 0 means the model's
 * @param maxStepTokens most token rows one step computes (decode rows plus prefill chunks)
 * @param maxWaiting admitted requests that may wait for KV room before trySubmit refuses
 * @param collectiveTimeout how long a rank waits in a collective before failing the group
 * @param pipeline pipeline stages (each a TP group of its own) and whether stage transfers overlap computation
 * @param kvCache the KV budget, block size and prefix caching
 */
public record ReplicaConfig(String modelPath, String tokenizerPath, String modelName, int tensorParallelSize,
                            String backend, int threadsPerRank, int maxBatch, int maxContext, int maxStepTokens,
                            int maxWaiting, Duration collectiveTimeout, Pipeline pipeline, KvCacheSettings kvCache)
        implements Serializable {

    /**
     * @param stages PP degree: stages of contiguous layers, each on a TP group of its own
     * @param overlap whether a stage may send a micro-batch's rows ahead and compute the next one while
     *                they travel (true), or waits until the next stage has taken them (false)
     * @param layers layers per stage, first to last ({@code --pp-layers}); empty: balanced by work
     *               ({@link StageSpec#split(io.streaminfer.model.ModelConfig, int, List)})
     */
    public record Pipeline(int stages, boolean overlap, List<Integer> layers) implements Serializable {
        public static final Pipeline NONE = new Pipeline(1, true);

        public Pipeline {
            if (stages < 1) {
                throw new IllegalArgumentException("--pp must be >= 1, got " + stages);
            }
            layers = layers == null ? List.of() : List.copyOf(layers);
            if (!layers.isEmpty() && layers.size() != stages) {
                throw new IllegalArgumentException("--pp-layers gives " + layers.size() + " stages, --pp is " + stages);
            }
        }

        public Pipeline(int stages, boolean overlap) {
            this(stages, overlap, List.of());
        }
    }

    public ReplicaConfig {
        if (modelPath == null || modelPath.isBlank()) {
            throw new IllegalArgumentException("model path is required");
        }
        if (tensorParallelSize < 1) {
            throw new IllegalArgumentException("--tp must be >= 1, got " + tensorParallelSize);
        }
        if (threadsPerRank < 1) {
            throw new IllegalArgumentException("threads per rank must be >= 1, got " + threadsPerRank);
        }
        if (maxBatch < 1) {
            throw new IllegalArgumentException("--max-batch must be >= 1, got " + maxBatch);
        }
        if (maxContext < 0) {
            throw new IllegalArgumentException("--max-context must be >= 0, got " + maxContext);
        }
        if (maxStepTokens < maxBatch) {
            throw new IllegalArgumentException("--max-step-tokens (" + maxStepTokens
                    + ") must be at least --max-batch (" + maxBatch + "): every running sequence decodes each step");
        }
        if (maxWaiting < 1) {
            throw new IllegalArgumentException("--max-waiting must be >= 1, got " + maxWaiting);
        }
        if (collectiveTimeout == null || collectiveTimeout.isNegative() || collectiveTimeout.isZero()) {
            throw new IllegalArgumentException("collective timeout must be positive");
        }
        if (pipeline == null) {
            pipeline = Pipeline.NONE;
        }
        if (kvCache == null) {
            kvCache = KvCacheSettings.defaults();
        }
    }

    /** With the default KV cache: a budget derived from the model and the heap, prefix caching on. */
    public ReplicaConfig(String modelPath, String tokenizerPath, String modelName, int tensorParallelSize,
                         String backend, int threadsPerRank, int maxBatch, int maxContext, int maxStepTokens,
                         int maxWaiting, Duration collectiveTimeout, Pipeline pipeline) {
        this(modelPath, tokenizerPath, modelName, tensorParallelSize, backend, threadsPerRank, maxBatch, maxContext,
                maxStepTokens, maxWaiting, collectiveTimeout, pipeline, KvCacheSettings.defaults());
    }

    /** Defaults for a model and tokenizer: vector backend, one thread per rank, 16 sequences. */
    public static ReplicaConfig defaults(String modelPath, String tokenizerPath, int tensorParallelSize) {
        return new ReplicaConfig(modelPath, tokenizerPath, modelNameOf(modelPath), tensorParallelSize, "vector", 1,
                16, 0, 256, 64, Duration.ofSeconds(60), Pipeline.NONE);
    }

    public ReplicaConfig withBatch(int maxBatch, int maxStepTokens) {
        return new ReplicaConfig(modelPath, tokenizerPath, modelName, tensorParallelSize, backend, threadsPerRank,
                maxBatch, maxContext, maxStepTokens, maxWaiting, collectiveTimeout, pipeline, kvCache);
    }

    public ReplicaConfig withBackend(String backendName, int threads) {
        return new ReplicaConfig(modelPath, tokenizerPath, modelName, tensorParallelSize, backendName, threads,
                maxBatch, maxContext, maxStepTokens, maxWaiting, collectiveTimeout, pipeline, kvCache);
    }

    public ReplicaConfig withMaxWaiting(int waiting) {
        return new ReplicaConfig(modelPath, tokenizerPath, modelName, tensorParallelSize, backend, threadsPerRank,
                maxBatch, maxContext, maxStepTokens, waiting, collectiveTimeout, pipeline, kvCache);
    }

    public ReplicaConfig withMaxContext(int context) {
        return new ReplicaConfig(modelPath, tokenizerPath, modelName, tensorParallelSize, backend, threadsPerRank,
                maxBatch, context, maxStepTokens, maxWaiting, collectiveTimeout, pipeline, kvCache);
    }

    public ReplicaConfig withCollectiveTimeout(Duration timeout) {
        return new ReplicaConfig(modelPath, tokenizerPath, modelName, tensorParallelSize, backend, threadsPerRank,
                maxBatch, maxContext, maxStepTokens, maxWaiting, timeout, pipeline, kvCache);
    }

    public ReplicaConfig withKvCache(KvCacheSettings settings) {
        return new ReplicaConfig(modelPath, tokenizerPath, modelName, tensorParallelSize, backend, threadsPerRank,
                maxBatch, maxContext, maxStepTokens, maxWaiting, collectiveTimeout, pipeline, settings);
    }

    public ReplicaConfig withPipeline(int stages, boolean overlap) {
        return new ReplicaConfig(modelPath, tokenizerPath, modelName, tensorParallelSize, backend, threadsPerRank,
                maxBatch, maxContext, maxStepTokens, maxWaiting, collectiveTimeout, new Pipeline(stages, overlap),
                kvCache);
    }

    /** The same pipeline with its stages holding these layer counts (empty: balanced by work). */
    public ReplicaConfig withPipelineLayers(List<Integer> layers) {
        return new ReplicaConfig(modelPath, tokenizerPath, modelName, tensorParallelSize, backend, threadsPerRank,
                maxBatch, maxContext, maxStepTokens, maxWaiting, collectiveTimeout,
                new Pipeline(pipeline.stages(), pipeline.overlap(), layers), kvCache);
    }

    /** PP degree. */
    public int pipelineStages() {
        return pipeline.stages();
    }

    /** Layers per stage as given ({@code --pp-layers}), or empty: balanced by work. */
    public List<Integer> pipelineLayers() {
        return pipeline.layers();
    }

    /** The file name without its extension: {@code stories260K.bin} is {@code stories260K}. */
    public static String modelNameOf(String path) {
        String file = java.nio.file.Path.of(path).getFileName().toString();
        int dot = file.lastIndexOf('.');
        return dot > 0 ? file.substring(0, dot) : file;
    }
}
