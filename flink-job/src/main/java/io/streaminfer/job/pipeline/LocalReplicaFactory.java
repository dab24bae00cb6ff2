package io.streaminfer.job.pipeline;

import io.streaminfer.compute.Backends;
import io.streaminfer.engine.InferenceReplica;
import io.streaminfer.engine.LocalReplica;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.operator.ReplicaFactory;
import java.io.IOException;

/**
 * Starts subtask i's replica on its TaskManager: worker group {@code tp:i}, model loaded there. A backend
 * this machine lacks, or a model or tokenizer it cannot read, fails the job once ({@link SetupFailedException});
 * anything else (a lost collective, memory) stays recoverable.
 */
public final class LocalReplicaFactory implements ReplicaFactory {
    private static final long serialVersionUID = 1L;
    private final ReplicaConfig config;

    public LocalReplicaFactory(ReplicaConfig config) {
        this.config = config;
    }

    @Override
    public InferenceReplica create(int subtaskIndex, InferenceReplica.Listener listener) throws Exception {
        try {
            Backends.requireAvailable(config.backend());
        } catch (IllegalStateException | IllegalArgumentException | LinkageError e) {
            throw new SetupFailedException("replica " + subtaskIndex + " cannot use backend " + config.backend()
                    + " on this TaskManager", e);
        }
        try {
            return LocalReplica.start(config, subtaskIndex, listener);
        } catch (IOException | IllegalArgumentException e) {
            throw new SetupFailedException("replica " + subtaskIndex + " cannot load --model " + config.modelPath()
                    + (config.tokenizerPath() == null ? "" : " with --tokenizer " + config.tokenizerPath()), e);
        }
    }
}
