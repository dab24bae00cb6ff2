package io.streaminfer.cuda;

import io.streaminfer.compute.KvGeometry;
import io.streaminfer.comm.CommGroup;
import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.engine.ModelShards;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.ModelShard;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.compute.StepBatch;
import org.junit.jupiter.api.Assumptions;

/** Shared pieces of the GPU tests: the skip, single-rank shards and a step-by-step greedy driver. */
final class GpuTestSupport {
    private GpuTestSupport() {}

    /** Skips the calling test, naming the missing piece, unless the whole CUDA stack is usable. */
    static void requireCuda() {
        String reason = CudaSupport.unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "skipped: no usable CUDA stack here: " + reason);
    }

    /** A single-rank shard of the named backend, with its own group (closed with the shard by the caller). */
    record Rank(ModelShard shard, CommGroup group) implements AutoCloseable {
        static Rank open(String backend, Checkpoint checkpoint, int slots, int positions, int maxRows) {
            CommGroup group = new GroupCoordinator(CommOptions.inProcess()).form("test-" + backend, 1);
            try {
                return new Rank(ModelShards.create(backend, 1, checkpoint, new ShardSpec(0, 1, checkpoint.config()),
                        group.communicator(0), KvGeometry.slots(slots, positions), maxRows), group);
            } catch (RuntimeException e) {
                group.close();
                throw e;
            }
        }

        @Override
        public void close() {
            shard.close();
            group.close();
        }
    }

    /**
     * Prefills the prompt in one step, then decodes {@code steps} tokens in slot 0. With {@code forced}
     * non-null the input of each decode step is forced[i] (teacher forcing, so two shards see the same
     * inputs even where they disagree); the logits of every step are kept in {@code logitsOut} (steps, vocab).
     *
     * @return the argmax (first maximum) of every step
     */
    static int[] greedy(ModelShard shard, int vocab, int[] prompt, int steps, int[] forced, float[][] logitsOut) {
        int n = prompt.length;
        int[] slots = new int[n];
        int[] positions = new int[n];
        boolean[] want = new boolean[n];
        for (int i = 0; i < n; i++) {
            positions[i] = i;
        }
        want[n - 1] = true;
        float[] logits = new float[vocab];
        shard.forward(new StepBatch(slots, positions, prompt.clone(), want), logits);
        int[] out = new int[steps];
        for (int s = 0; s < steps; s++) {
            int next = argmax(logits);
            out[s] = next;
            if (logitsOut != null) {
                logitsOut[s] = logits.clone();
            }
            if (s + 1 == steps) {
                break;
            }
            int input = forced != null ? forced[s] : next;
            shard.forward(new StepBatch(new int[] {0}, new int[] {n + s}, new int[] {input}, new boolean[] {true}),
                    logits);
        }
        return out;
    }

    static int argmax(float[] v) {
        return io.streaminfer.model.ShardRunner.argmax(v);
    }

    /** Where two token sequences first differ, or -1. */
    static int firstDifference(int[] a, int[] b) {
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            if (a[i] != b[i]) {
                return i;
            }
        }
        return a.length == b.length ? -1 : Math.min(a.length, b.length);
    }
}
