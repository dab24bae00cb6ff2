package io.streaminfer.engine;

import io.streaminfer.comm.CommBackend;
import io.streaminfer.comm.Communicator;
import io.streaminfer.compute.Backends;
import io.streaminfer.compute.KvGeometry;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.ModelShard;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.TransformerShard;

/** The one place that turns a backend name into a rank's {@link ModelShard} and its comm backend. */
public final class ModelShards {
    private ModelShards() {}

    /** The collectives a backend's ranks need: in-process for CPU kernels, NCCL for {@code cuda}. */
    public static CommBackend commBackendFor(String backend) {
        return Backends.commBackendFor(backend);
    }

    /**
     * Cuts rank {@code spec.rank()}'s shard and hands it to the named backend ({@link Backends#NAMES}, or
     * {@code cuda[:precision=fp32|bf16][,device-base=N]}, found by {@link Backends}).
     *
     * @throws IllegalArgumentException for an unknown backend name
     * @throws IllegalStateException for a backend that cannot run here, naming what is missing
     */
    public static ModelShard create(String backend, int threadsPerRank, Checkpoint checkpoint, ShardSpec spec,
                                    Communicator communicator, KvGeometry kv, int maxRows) {
        return new TransformerShard(checkpoint, spec, communicator,
                Backends.create(backend, threadsPerRank, communicator), kv, maxRows);
    }
}
