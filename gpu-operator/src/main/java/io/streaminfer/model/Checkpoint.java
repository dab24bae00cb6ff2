package io.streaminfer.model;

import java.nio.FloatBuffer;

/**
 * Read-only access to the full tensors of a checkpoint, without copying them onto the heap (the llama2.c
 * loader memory-maps the file). Each rank cuts its own shard from these views at load time.
 *
 * <p>Every method returns a fresh view positioned at 0 whose limit is the tensor's length. Matrices are
 * row-major with rows = output features.
 */
public interface Checkpoint extends AutoCloseable {
    ModelConfig config();

    /** (vocab, dim) */
    FloatBuffer tokenEmbedding();

    /** (dim) */
    FloatBuffer attentionNorm(int layer);

    /** (dim, dim): rows = query features, head by head */
    FloatBuffer wq(int layer);

    /** (kv_dim, dim) */
    FloatBuffer wk(int layer);

    /** (kv_dim, dim) */
    FloatBuffer wv(int layer);

    /** (dim, dim): columns = attention output features, head by head */
    FloatBuffer wo(int layer);

    /** (dim) */
    FloatBuffer ffnNorm(int layer);

    /** (hidden, dim): gate */
    FloatBuffer w1(int layer);

    /** (dim, hidden): down */
    FloatBuffer w2(int layer);

    /** (hidden, dim): up */
    FloatBuffer w3(int layer);

    /** (dim) */
    FloatBuffer finalNorm();

    /** (vocab, dim): the token embedding itself when the classifier is shared */
    FloatBuffer classifier();

    /** Releases the mapping (views must not be used afterwards). */
    @Override
    void close();
}
