package io.streaminfer.engine;

import io.streaminfer.comm.CommBackend;
import io.streaminfer.comm.Communicator;
import io.streaminfer.compute.Backends;
import io.streaminfer.cuda.CudaOptions;
import io.streaminfer.cuda.CudaShards;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.ModelShard;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.TransformerShard;

/** The one place that turns a backend name into a rank's {@link ModelShard} and its comm backend. */
public final class ModelShards {
    private ModelShards() {}

    /** The collectives a backend's ranks need: in-process for CPU kernels, NCCL for {@code cuda}. */
    public static CommBackend commBackendFor(String backend) {
        return CudaOptions.isCuda(backend) ? CommBackend.NCCL : CommBackend.IN_PROCESS;
    }

    /**
     * Cuts and packs rank {@code spec.rank()}'s shard with the named backend ({@link Backends#NAMES}, or
     * {@code cuda[:precision=fp32|bf16][,device-base=N]}: device-resident, see {@link CudaShards}).
     *
     * @throws IllegalArgumentException for an unknown backend name
     * @throws IllegalStateException for {@code cuda} where CUDA cannot run, naming the missing library
     */
    public static ModelShard create(String backend, int threadsPerRank, Checkpoint checkpoint, ShardSpec spec,
                                    Communicator communicator, int slots, int positions, int maxRows) {
        if (CudaOptions.isCuda(backend)) {
            // CudaShards is only resolved here: CPU runs never load a CUDA class.
            return CudaShards.create(backend, checkpoint, spec, communicator, slots, positions, maxRows);
        }
        return new TransformerShard(checkpoint, spec, communicator, Backends.create(backend, threadsPerRank), slots,
                positions, maxRows);
    }
}
