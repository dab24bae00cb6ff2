package io.streaminfer.cuda;

import io.streaminfer.compute.BlockTables;
import io.streaminfer.compute.KvGeometry;
import io.streaminfer.compute.StepBatch;
import org.bytedeco.javacpp.IntPointer;

/**
 * A step's index arrays on the device, copied in once per step from pinned host memory: sequences |
 * positions | tokens | logit row indices, maxRows ints each, then the block tables, (sequences, blocks
 * per sequence) with every unused entry -1. The kernels read them at the addresses below.
 */
final class CudaStepIndices {
    private final CudaDevice device;
    private final int maxRows;
    private final int tableSequences;  // sequences the tables hold: a step's, or every slot of a slot cache
    private final int tableWidth;      // blocks per sequence: the width the kernels read the tables with
    private final long deviceInts;     // (4 * maxRows + tableSequences * tableWidth)
    private final IntPointer hostInts; // pinned, the same layout

    CudaStepIndices(CudaDevice device, int maxRows, int tableSequences, int tableWidth) {
        this.device = device;
        this.maxRows = maxRows;
        this.tableSequences = tableSequences;
        this.tableWidth = tableWidth;
        long ints = 4L * maxRows + (long) tableSequences * tableWidth;
        this.deviceInts = device.allocate(4L * ints, "step indices");
        this.hostInts = new IntPointer(device.pinned(4L * ints, "step indices")).capacity(ints);
    }

    /** Fills the arrays from the step and its tables and enqueues their copy on the compute stream. */
    void upload(StepBatch batch, BlockTables tables) {
        int rows = batch.rows();
        if (rows > maxRows) {
            throw new IllegalArgumentException("step of " + rows + " rows exceeds the budget of " + maxRows);
        }
        if (tables.sequences() > tableSequences || tables.width() > tableWidth) {
            throw new IllegalArgumentException("block tables of " + tables.sequences() + " sequences x "
                    + tables.width() + " blocks exceed " + tableSequences + " x " + tableWidth);
        }
        int logitRows = 0;
        for (int r = 0; r < rows; r++) {
            hostInts.put(r, batch.sequences()[r]);
            hostInts.put(maxRows + r, batch.positions()[r]);
            hostInts.put(2L * maxRows + r, batch.tokens()[r]);
            if (batch.wantLogits()[r]) {
                hostInts.put(3L * maxRows + logitRows++, r);
            }
        }
        for (int s = 0; s < tables.sequences(); s++) {
            for (int i = 0; i < tableWidth; i++) {
                hostInts.put(4L * maxRows + (long) s * tableWidth + i,
                        i < tables.width() ? tables.blocks()[s * tables.width() + i] : -1);
            }
        }
        device.select();
        device.copyToDeviceAsync(deviceInts, hostInts, 4L * (4L * maxRows + (long) tables.sequences() * tableWidth),
                "the step's indices");
    }

    int tableWidth() {
        return tableWidth;
    }

    long sequences() {
        return deviceInts;
    }

    long positions() {
        return deviceInts + 4L * maxRows;
    }

    long tokens() {
        return deviceInts + 8L * maxRows;
    }

    long logitRowIndex() {
        return deviceInts + 12L * maxRows;
    }

    long blockTables() {
        return deviceInts + 16L * maxRows;
    }

    /** Every row's position within the context, and every block it reads or writes within the pool. */
    static void checkRows(StepBatch batch, BlockTables tables, KvGeometry geometry) {
        for (int r = 0; r < batch.rows(); r++) {
            int pos = batch.positions()[r];
            if (pos < 0 || pos >= geometry.positions()) {
                throw new IllegalArgumentException("position " + pos + " is outside [0, " + geometry.positions() + ")");
            }
            for (int i = 0; i <= pos / geometry.blockSize(); i++) {
                int block = tables.block(batch.sequences()[r], i);
                if (block >= geometry.blocks()) {
                    throw new IllegalArgumentException("KV block " + block + " is outside the pool of "
                            + geometry.blocks());
                }
            }
        }
    }
}
