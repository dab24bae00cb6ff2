package io.streaminfer.operator;

import io.streaminfer.engine.InferenceReplica;

import java.io.Serializable;

/**
 * Creates the replica that one operator subtask hosts. It travels with the job graph, so it must be
 * serializable and carry only configuration (model path, TP degree, budgets), never a live replica.
 */
@FunctionalInterface
public interface ReplicaFactory extends Serializable {

    /**
     * Builds and starts the replica of subtask {@code subtaskIndex}. The replica reports every result
     * and failure to {@code listener}, from its own threads.
     */
    InferenceReplica create(int subtaskIndex, InferenceReplica.Listener listener) throws Exception;
}
