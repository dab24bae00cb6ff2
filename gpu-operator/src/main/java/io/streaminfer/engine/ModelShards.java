package io.streaminfer.engine;

import io.streaminfer.comm.CommBackend;
import io.streaminfer.comm.Communicator;
import io.streaminfer.comm.StageLink;
import io.streaminfer.compute.Backends;
import io.streaminfer.compute.KvGeometry;
import io.streaminfer.cuda.CudaOptions;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.ModelShard;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.StageSpec;
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

    /**
     * Like {@link #create}, for rank {@code spec.rank()} of pipeline stage {@code stage}: its layers only,
     * with the links to its neighbouring stages. A CUDA stage s of TP degree t runs on devices from
     * device-base + s * t.
     */
    public static ModelShard createStage(String backend, int threadsPerRank, Checkpoint checkpoint, ShardSpec spec,
                                         StageSpec stage, Communicator communicator, StageLink inbound,
                                         StageLink outbound, KvGeometry kv, int maxRows) {
        String stageBackend = backendForStage(backend, stage.stage(), spec.size());
        return new TransformerShard(checkpoint, spec, communicator,
                Backends.create(stageBackend, threadsPerRank, communicator), kv, maxRows, stage, inbound, outbound);
    }

    /** The backend name of stage {@code stage}: a CUDA backend's device base moves on by {@code tp} per stage. */
    static String backendForStage(String backend, int stage, int tp) {
        if (stage == 0 || !CudaOptions.isCuda(backend)) {
            return backend;
        }
        CudaOptions options = CudaOptions.parse(backend);
        return "cuda:precision=" + options.precision().name().toLowerCase(java.util.Locale.ROOT) + ",device-base="
                + (options.deviceBase() + stage * tp);
    }
}
