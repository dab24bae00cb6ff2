package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.compute.StepBatch;
import io.streaminfer.model.ModelConfig;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The benchmark's driver keeps up to the executor's depth in flight, never feeds a slot before the step
 * that computes its token came back, and decodes every slot at every position.
 */
class BenchDriverTest {
    private static final ModelConfig CONFIG = ModelConfig.llama2c(8, 16, 2, 2, 2, 50, 64, true);

    /** Records steps and checks the executor contract; its logits make slot s's argmax token s + position. */
    private static final class RecordingExecutor implements StepExecutor {
        final int depth;
        final ArrayDeque<StepBatch> inFlight = new ArrayDeque<>();
        final ArrayDeque<float[]> buffers = new ArrayDeque<>();
        final List<StepBatch> submitted = new ArrayList<>();
        int mostInFlight;

        RecordingExecutor(int depth) {
            this.depth = depth;
        }

        @Override
        public int depth() {
            return depth;
        }

        @Override
        public void submit(StepBatch batch, float[] logits) {
            assertTrue(inFlight.size() < depth, "more than " + depth + " steps in flight");
            for (float[] busy : buffers) {
                assertTrue(busy != logits, "a logits buffer reused while its step is in flight");
            }
            inFlight.add(batch);
            buffers.add(logits);
            submitted.add(batch);
            mostInFlight = Math.max(mostInFlight, inFlight.size());
        }

        @Override
        public void awaitOldest() {
            StepBatch batch = inFlight.poll();
            float[] logits = buffers.poll();
            int vocab = CONFIG.vocabularySize();
            int row = 0;
            for (int r = 0; r < batch.rows(); r++) {
                if (batch.wantLogits()[r]) {
                    Arrays.fill(logits, row * vocab, (row + 1) * vocab, 0f);
                    logits[row * vocab + (batch.sequences()[r] + batch.positions()[r]) % vocab] = 1f;
                    row++;
                }
            }
        }

        @Override
        public int inFlight() {
            return inFlight.size();
        }

        @Override
        public Throwable failure() {
            return null;
        }

        @Override
        public void close() {
        }
    }

    @ParameterizedTest(name = "depth {0}, batch {1}")
    @CsvSource({"1,6", "2,6", "3,7", "2,1"})
    void decodeFeedsEachSlotTheTokenOfItsPreviousStep(int depth, int batch) {
        RecordingExecutor executor = new RecordingExecutor(depth);
        int prompt = 5;
        int steps = 4;
        BenchDriver.Figures figures = new BenchDriver(executor, CONFIG, batch, prompt, 8, 0).run(steps, 0);
        assertTrue(figures.decodeTokensPerSecond() > 0);
        assertEquals(0, executor.inFlight(), "drained");
        assertEquals(Math.min(depth, batch), executor.mostInFlight, "the pipeline is kept full");
        // The timed decode: the last steps submitted, one per micro-batch per position.
        List<StepBatch> decode = executor.submitted.subList(executor.submitted.size() - steps * Math.min(depth, batch),
                executor.submitted.size());
        int[] seen = new int[batch];
        for (StepBatch step : decode) {
            for (int r = 0; r < step.rows(); r++) {
                int slot = step.sequences()[r];
                int position = step.positions()[r];
                assertEquals(prompt + seen[slot], position, "slot " + slot + " decodes its positions in order");
                int expected = seen[slot] == 0 ? 1 : (slot + position - 1) % CONFIG.vocabularySize();
                assertEquals(expected, step.tokens()[r], "slot " + slot + " feeds the argmax of its previous step");
                seen[slot]++;
            }
        }
        int[] all = new int[batch];
        Arrays.fill(all, steps);
        assertArrayEquals(all, seen, "every slot decoded at every position");
    }

    @Test
    void prefillCoversEverySlotsPromptInChunks() {
        RecordingExecutor executor = new RecordingExecutor(2);
        new BenchDriver(executor, CONFIG, 3, 5, 4, 0).run(1, 0);
        // the first steps are the untimed prefill: 15 rows in chunks of at most 4
        int rows = 0;
        for (StepBatch step : executor.submitted) {
            if (rows == 15) {
                break;
            }
            assertTrue(step.rows() <= 4);
            for (int r = 0; r < step.rows(); r++) {
                assertEquals(rows / 5, step.sequences()[r]);
                assertEquals(rows % 5, step.positions()[r]);
                rows++;
            }
        }
        assertEquals(15, rows);
    }
}
