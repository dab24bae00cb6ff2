package io.streaminfer.engine;

import io.streaminfer.compute.KvGeometry;
import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.cuda.CudaOptions;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.StageSpec;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts a replica's {@link PipelineGroup} from its {@link ReplicaConfig}, and says in the log what runs where. */
final class ReplicaStages {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaStages.class);

    private ReplicaStages() {}

    /**
     * Splits the layers into the configured stages, forms each stage's TP group and the links between
     * them, and loads every rank's shard; the driver then runs on the pipeline's own thread.
     */
    static PipelineGroup start(ReplicaConfig config, int replicaIndex, Checkpoint checkpoint, ModelConfig model,
                               KvGeometry kv, PipelineGroup.Driver driver,
                               TensorParallelGroup.FailureHandler onFailure, Duration loadTimeout) throws Exception {
        int tp = config.tensorParallelSize();
        List<StageSpec> stages = StageSpec.split(model, config.pipelineStages(), config.pipelineLayers());
        CommOptions options = CommOptions.inProcess().withBackend(ModelShards.commBackendFor(config.backend()))
                .withTimeout(config.collectiveTimeout());
        // With overlap a stage may send every micro-batch in flight ahead; without, each send waits for the receiver.
        int linkCapacity = config.pipeline().overlap() ? stages.size() : 0;
        PipelineGroup pipeline = PipelineGroup.start(String.valueOf(replicaIndex), new GroupCoordinator(options),
                stages, tp, linkCapacity,
                (stage, rank, communicator, inbound, outbound) -> ModelShards.createStage(config.backend(),
                        config.threadsPerRank(), checkpoint, new ShardSpec(rank, tp, model), stage, communicator,
                        inbound, outbound, kv, config.maxStepTokens()),
                driver, onFailure, loadTimeout);
        LOG.info("replica {} up: model {} ({} parameters), PP={} x TP={}, backend {} x {} thread(s) per rank, "
                        + "up to {} sequences of {} positions, {} KV blocks of {}, up to {} micro-batches in flight, "
                        + "stage transfers {}", replicaIndex,
                config.modelName(), model.parameterCount(), stages.size(), tp, config.backend(),
                config.threadsPerRank(), config.maxBatch(), kv.positions(), kv.blocks(), kv.blockSize(), stages.size(),
                config.pipeline().overlap() ? "overlapped with computation" : "waited for (overlap off)");
        for (StageSpec stage : stages) {
            LOG.info("replica {} stage {} ({}): {}; {}; KV cache {} MiB per rank", replicaIndex, stage.stage(),
                    pipeline.groupNames().get(stage.stage()), stage.describe(), where(config, stage, tp),
                    pipeline.shard(stage.stage(), 0).kvCacheBytes() >> 20);
        }
        return pipeline;
    }

    /** The devices or threads a stage runs on, for the log. */
    private static String where(ReplicaConfig config, StageSpec stage, int tp) {
        if (CudaOptions.isCuda(config.backend())) {
            int base = CudaOptions.parse(config.backend()).deviceBase() + stage.stage() * tp;
            return "CUDA devices " + base + "-" + (base + tp - 1);
        }
        return "CPU, " + tp + " rank(s) x " + config.threadsPerRank() + " thread(s)";
    }
}
