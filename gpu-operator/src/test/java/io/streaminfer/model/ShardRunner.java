package io.streaminfer.model;

import io.streaminfer.comm.CommGroup;
import io.streaminfer.comm.CommOptions;
import io.streaminfer.comm.GroupCoordinator;
import io.streaminfer.compute.Backends;
import io.streaminfer.compute.StepBatch;
import io.streaminfer.engine.TensorParallelGroup;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/** Runs a checkpoint's shards as a real TP group (rank threads, in-process collectives) for tests. */
public final class ShardRunner {
    private static final AtomicInteger GROUPS = new AtomicInteger();

    private ShardRunner() {}

    /** Runs {@code body} on the group's driver thread and returns what it returns. */
    public static <T> T withGroup(Checkpoint checkpoint, int tp, String kernel, int slots, int positions, int maxRows,
                           Function<TensorParallelGroup, T> body) throws Exception {
        ModelConfig config = checkpoint.config();
        CommGroup comms = new GroupCoordinator(CommOptions.inProcess().withTimeout(Duration.ofSeconds(30)))
                .form("shard-runner-" + GROUPS.incrementAndGet(), tp);
        CompletableFuture<T> result = new CompletableFuture<>();
        TensorParallelGroup group = TensorParallelGroup.start(comms,
                (rank, communicator) -> new TransformerShard(checkpoint, new ShardSpec(rank, tp, config), communicator,
                        Backends.create(kernel, 1, communicator), slots, positions, maxRows),
                g -> {
                    try {
                        result.complete(body.apply(g));
                    } catch (RuntimeException | Error e) {
                        result.completeExceptionally(e);
                    }
                },
                result::completeExceptionally, Duration.ofSeconds(30));
        try {
            return result.get(120, TimeUnit.SECONDS);
        } finally {
            group.close();
        }
    }

    /**
     * Greedy ids after {@code prompt} (prefilled in one step) until {@code positions} are used or a token of
     * {@code stops} is sampled (not included), as run.c generates.
     */
    public static int[] greedy(Checkpoint checkpoint, int tp, String kernel, int[] prompt, int positions, int... stops)
            throws Exception {
        int vocab = checkpoint.config().vocabularySize();
        return withGroup(checkpoint, tp, kernel, 1, positions, Math.max(prompt.length, 1), g -> {
            float[] logits = new float[vocab];
            boolean[] want = new boolean[prompt.length];
            want[prompt.length - 1] = true;
            int[] slots = new int[prompt.length];
            int[] at = new int[prompt.length];
            for (int i = 0; i < prompt.length; i++) {
                at[i] = i;
            }
            g.step(new StepBatch(slots, at, prompt.clone(), want), logits);
            int[] out = new int[positions];
            int n = 0;
            for (int pos = prompt.length; ; pos++) {
                int token = argmax(logits);
                if (Arrays.stream(stops).anyMatch(s -> s == token)) {
                    break;
                }
                out[n++] = token;
                if (pos >= positions) {
                    break;
                }
                g.step(new StepBatch(new int[] {0}, new int[] {pos}, new int[] {token}, new boolean[] {true}), logits);
            }
            return Arrays.copyOf(out, n);
        });
    }

    public static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }
}
