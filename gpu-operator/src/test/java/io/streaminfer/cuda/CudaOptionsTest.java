package io.streaminfer.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.comm.CommBackend;
import io.streaminfer.engine.ModelShards;
import org.junit.jupiter.api.Test;

class CudaOptionsTest {

    @Test
    void plainCudaIsFp32OnDeviceZero() {
        assertEquals(new CudaOptions(CudaPrecision.FP32, 0), CudaOptions.parse("cuda"));
    }

    @Test
    void keysAreParsed() {
        CudaOptions o = CudaOptions.parse("cuda:precision=bf16,device-base=2");
        assertEquals(CudaPrecision.BF16, o.precision());
        assertEquals(3, o.deviceOf(1));
    }

    @Test
    void onlyCudaNamesAreCuda() {
        assertTrue(CudaOptions.isCuda("CUDA"));
        assertTrue(CudaOptions.isCuda("cuda:precision=bf16"));
        assertFalse(CudaOptions.isCuda("vector"));
        assertFalse(CudaOptions.isCuda("cudax"));
        assertFalse(CudaOptions.isCuda(null));
    }

    @Test
    void badNamesSayWhatIsWrong() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CudaOptions.parse("cuda:precision=fp8"))
                .getMessage().contains("fp32 or bf16"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CudaOptions.parse("cuda:threads=2"))
                .getMessage().contains("unknown key 'threads'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CudaOptions.parse("cuda:device-base=x"))
                .getMessage().contains("must be an integer"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CudaOptions.parse("cuda:device-base=-1"))
                .getMessage().contains(">= 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CudaOptions.parse("cuda:bf16"))
                .getMessage().contains("not key=value"));
    }

    @Test
    void cudaRanksTalkThroughNccl() {
        assertEquals(CommBackend.NCCL, ModelShards.commBackendFor("cuda"));
        assertEquals(CommBackend.NCCL, ModelShards.commBackendFor("cuda:precision=bf16"));
        assertEquals(CommBackend.IN_PROCESS, ModelShards.commBackendFor("vector"));
    }
}
