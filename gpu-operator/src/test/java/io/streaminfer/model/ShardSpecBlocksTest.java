package io.streaminfer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.compute.StorageKind;
import org.junit.jupiter.api.Test;

/** TP shards of quantized row-parallel weights must hold whole blocks; the refusal names the tensor. */
class ShardSpecBlocksTest {

    @Test
    void aDegreeThatSplitsABlockIsRefusedBeforeLoading() {
        ModelConfig config = ModelConfig.builder().dim(64).hiddenDim(128).layers(1).heads(4).vocabularySize(32)
                .contextLength(8).build();
        try (Checkpoint q8 = new QuantizedCheckpoint(new InMemoryCheckpoint(config, 1), StorageKind.Q8_0)) {
            assertEquals(StorageKind.Q8_0, q8.tensor(TensorNames.attentionOutput(0)).kind());
            ShardSpec.check(q8, 2); // 32 of 64 attention columns and 64 of 128 hidden ones per rank: whole blocks
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShardSpec.check(q8, 4));
            assertTrue(e.getMessage().contains("tensor-parallel size 4 would split the Q8_0 blocks of 32 columns of "
                    + "blk.0.attn_output (each rank would hold 16 of its 64 columns)"), e.getMessage());
        }
        ShardSpec.check(new InMemoryCheckpoint(config, 1), 4); // fp32 splits anywhere a head boundary allows
    }
}
