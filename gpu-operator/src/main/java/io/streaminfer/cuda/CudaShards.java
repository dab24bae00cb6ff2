package io.streaminfer.cuda;

import io.streaminfer.comm.Communicator;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.ModelShard;
import io.streaminfer.model.ShardSpec;

/**
 * Entry point of the CUDA backend for {@link io.streaminfer.engine.ModelShards}. Only called when a
 * {@code cuda} backend is asked for, so CPU-only runs never load a CUDA class.
 */
public final class CudaShards {
    private CudaShards() {}

    /**
     * Rank {@code spec.rank()}'s shard on device {@code device-base + rank}, from a backend name
     * {@code cuda[:precision=fp32|bf16][,device-base=N]}.
     *
     * @throws IllegalStateException naming the missing library (driver, cudart, cuBLAS, NVRTC, NCCL), or
     *     with the byte counts when the shard does not fit the device
     */
    public static ModelShard create(String backend, Checkpoint checkpoint, ShardSpec spec, Communicator communicator,
                                    int slots, int positions, int maxRows) {
        CudaOptions options = CudaOptions.parse(backend);
        CudaSupport.requireAvailable("backend " + backend);
        return new CudaTransformerShard(checkpoint, spec, communicator, options, slots, positions, maxRows);
    }
}
