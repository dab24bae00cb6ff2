package io.streaminfer.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Where a sequence's blocks lie changes no bit of its attention: the same keys and values written through
 * a table of consecutive blocks (the contiguous kernels) and through a scattered one (the offset kernels),
 * at every position and block size.
 */
class PagedAttentionTest {

    @Test
    void scatteredBlocksAttendBitwiseAsConsecutiveOnes() {
        Random random = new Random(3);
        AttentionShape shape = new AttentionShape(4, 0, 2, 0, 2, 16); // GQA: 4 query heads over 2 KV heads
        int positions = 70;
        for (int blockSize : new int[] {8, 16, 32}) {
            int perSequence = KvGeometry.blocksFor(positions, blockSize);
            KvGeometry geometry = new KvGeometry(3 * perSequence, blockSize, positions);
            CpuKvCache cache = new CpuKvCache(1, geometry, shape.kvWidth(), shape.headDim());
            int[] consecutive = new int[perSequence];
            int[] scattered = new int[perSequence];
            for (int i = 0; i < perSequence; i++) {
                consecutive[i] = i;
                scattered[i] = 3 * perSequence - 1 - 2 * i; // backwards, with gaps
            }
            BlockTables tables = new BlockTables(perSequence, concat(consecutive, scattered));
            float[] qkv = new float[positions * shape.qkvWidth()];
            for (int i = 0; i < qkv.length; i++) {
                qkv[i] = random.nextFloat() - 0.5f;
            }
            CpuAttention.Scratch scratch = CpuAttention.Scratch.forContext(geometry);
            for (int p = 0; p < positions; p++) {
                int k = p * shape.qkvWidth() + shape.queryWidth();
                for (int sequence = 0; sequence < 2; sequence++) {
                    cache.write(0, tables.block(sequence, p / blockSize), p % blockSize, qkv, k, k + shape.kvWidth());
                }
                float[] a = new float[shape.queryWidth()];
                float[] b = new float[shape.queryWidth()];
                CpuAttention.attend(cache, 0, tables, 0, p, qkv, p * shape.qkvWidth(), a, 0, scratch, shape);
                CpuAttention.attend(cache, 0, tables, 1, p, qkv, p * shape.qkvWidth(), b, 0, scratch, shape);
                assertArrayEquals(a, b, 0f, "block size " + blockSize + ", position " + p);
            }
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
