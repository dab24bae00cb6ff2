package io.streaminfer.job.pipeline;

import io.streaminfer.engine.InferenceReplica;
import io.streaminfer.engine.LocalReplica;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.operator.ReplicaFactory;

/** Starts subtask i's replica on its TaskManager: worker group {@code tp:i}, model loaded there. */
public final class LocalReplicaFactory implements ReplicaFactory {
    private static final long serialVersionUID = 1L;
    private final ReplicaConfig config;

    public LocalReplicaFactory(ReplicaConfig config) {
        this.config = config;
    }

    @Override
    public InferenceReplica create(int subtaskIndex, InferenceReplica.Listener listener) throws Exception {
        return LocalReplica.start(config, subtaskIndex, listener);
    }
}
