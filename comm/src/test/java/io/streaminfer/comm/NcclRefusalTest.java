package io.streaminfer.comm;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Asking for NCCL where it cannot run fails at once and says why; there is no silent fallback. */
class NcclRefusalTest {

    @Test
    void ncclWithoutCudaFailsAtFormingTimeNamingWhatIsMissing() {
        String missing = NcclSupport.unavailableReason();
        Assumptions.assumeTrue(missing != null, "a CUDA device and NCCL are present; the refusal cannot be tested here");
        GroupCoordinator coordinator = new GroupCoordinator(CommOptions.inProcess().withBackend(CommBackend.NCCL));
        for (int attempt = 0; attempt < 2; attempt++) {
            // The second attempt meets NoClassDefFoundError inside JavaCPP rather than UnsatisfiedLinkError.
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> coordinator.form("gpu", 2));
            assertTrue(e.getMessage().contains("NCCL") && e.getMessage().contains("tp:gpu")
                    && e.getMessage().contains(missing.substring(0, 20)), e.getMessage());
            assertTrue(coordinator.liveGroupNames().isEmpty(), "a refused group releases its name");
        }
    }

    @Test
    void theReasonNamesTheMissingPiece() {
        String missing = NcclSupport.unavailableReason();
        Assumptions.assumeTrue(missing != null, "a CUDA device and NCCL are present");
        assertTrue(missing.contains("CUDA") || missing.contains("NCCL") || missing.contains("libnccl"), missing);
        assertTrue(missing.equals(NcclSupport.unavailableReason()), "probing twice gives the same answer");
    }
}
