package io.streaminfer.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The margin every CUDA allocation keeps free (pure arithmetic, no GPU). */
class CudaMemoryBudgetTest {

    @Test
    void theMarginIsHalfAGibibytePlusFivePercent() {
        long total = 80L << 30;
        assertEquals((512L << 20) + total / 20, CudaMemoryBudget.marginBytes(total));
    }

    @Test
    void anAllocationFitsOnlyWithTheMarginLeft() {
        long total = 80L << 30;
        long margin = CudaMemoryBudget.marginBytes(total);
        long free = 10L << 30;
        assertTrue(CudaMemoryBudget.fits(free - margin, free, total));
        assertFalse(CudaMemoryBudget.fits(free - margin + 1, free, total));
        assertFalse(CudaMemoryBudget.fits(1, margin - 1, total), "nothing fits once the margin is reached");
    }
}
