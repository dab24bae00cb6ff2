package io.streaminfer.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The NVRTC source ships in the jar with every entry point the shard launches (no GPU needed). */
class CudaKernelSourceTest {

    @Test
    void everyLaunchedKernelIsAnExternCEntryPoint() {
        String source = CudaKernels.readSource();
        for (String name : CudaKernels.ENTRY_POINTS) {
            assertTrue(Pattern.compile("extern \"C\" __global__ void " + name + "\\(").matcher(source).find(),
                    "kernel " + name + " missing from " + CudaKernels.SOURCE);
        }
    }

    @Test
    void blockSizeAgreesWithTheLauncher() {
        assertTrue(CudaKernels.readSource().contains("#define BLOCK " + CudaKernels.BLOCK),
                "the reductions assume blockDim == BLOCK == " + CudaKernels.BLOCK);
    }

    @Test
    void sourceNeedsNoHostHeaders() {
        // NVRTC has no system include path here: the kernels must not include anything.
        assertTrue(!CudaKernels.readSource().contains("#include"), "kernels must not #include headers");
    }
}
