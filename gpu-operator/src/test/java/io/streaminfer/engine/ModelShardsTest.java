package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streaminfer.cuda.CudaOptions;
import org.junit.jupiter.api.Test;

/** A pipeline stage's backend: CPU kernels as they are, a CUDA stage on its own devices. */
class ModelShardsTest {

    @Test
    void cpuKernelsAreTheSameOnEveryStage() {
        assertEquals("vector", ModelShards.backendForStage("vector", 3, 2));
    }

    @Test
    void aCudaStageStartsTpDevicesFurtherOn() {
        assertEquals("cuda", ModelShards.backendForStage("cuda", 0, 2));
        String stage2 = ModelShards.backendForStage("cuda:precision=bf16,device-base=1", 2, 2);
        CudaOptions options = CudaOptions.parse(stage2);
        assertEquals(5, options.deviceOf(0), stage2);
        assertEquals(6, options.deviceOf(1), stage2);
        assertEquals("BF16", options.precision().name());
    }
}
