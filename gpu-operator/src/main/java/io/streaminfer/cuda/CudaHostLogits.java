package io.streaminfer.cuda;

import org.bytedeco.javacpp.FloatPointer;

/** Pinned host memory the logits come back through, and their reordering into (row, vocabulary). */
final class CudaHostLogits implements AutoCloseable {
    private final CudaDevice device;
    private final FloatPointer host;

    CudaHostLogits(CudaDevice device, long floats) {
        this.device = device;
        this.host = new FloatPointer(device.pinned(4L * floats, "host logits")).capacity(floats);
    }

    /** Copies {@code floats} from the device and waits for them. */
    void copy(long deviceAddress, long floats, Runnable waitForStream) {
        device.copyToHostAsync(host, deviceAddress, 4L * floats, "the logits");
        waitForStream.run();
    }

    /** (rank, row, vocab_shard) as copied into (row, rank * vocab_shard) of {@code logits}. */
    void into(float[] logits, int rows, int vocabShard, int ranks, int vocabulary) {
        for (int rank = 0; rank < ranks; rank++) {
            for (int r = 0; r < rows; r++) {
                host.position((long) (rank * rows + r) * vocabShard).get(logits, r * vocabulary + rank * vocabShard,
                        vocabShard);
            }
        }
        host.position(0);
    }

    @Override
    public void close() {
        // the pinned block is the device's, freed with it
    }
}
