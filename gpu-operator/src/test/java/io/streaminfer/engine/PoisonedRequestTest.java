package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.SyntheticCheckpoint;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request whose own arithmetic overflows (its prompt holds a token whose embedding row is infinite, so
 * its logits are NaN) ends as an ERROR naming the non-finite logit; the replica goes on, and every other
 * request of the same batches gets bitwise the tokens and logprobs it gets without the poisoned one.
 */
class PoisonedRequestTest {
    private static final int DIM = 64;
    private static final int VOCAB = 512;
    /** The token whose embedding row holds an infinity. */
    private static final int POISON = 77;
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writePoisonedModel() throws Exception {
        model = dir.resolve("poisoned.bin");
        // A separate classifier: a tied one would carry the infinite row into every request's logits.
        SyntheticCheckpoint.write(model, ModelConfig.llama2c(DIM, 128, 2, 8, 2, VOCAB, 64, false), 5);
        try (FileChannel channel = FileChannel.open(model, StandardOpenOption.WRITE)) {
            ByteBuffer inf = ByteBuffer.allocate(Float.BYTES).order(ByteOrder.LITTLE_ENDIAN)
                    .putFloat(Float.POSITIVE_INFINITY).flip();
            // The llama2.c header is 7 int32; the embedding table (vocab, dim) comes first.
            channel.write(inf, 7L * Integer.BYTES + (long) POISON * DIM * Float.BYTES);
        }
    }

    private static Map<String, GenerationResult> run(int tp, List<GenerationRequest> requests) throws Exception {
        ReplicaConfig config = ReplicaConfig.defaults(model.toString(), null, tp).withBatch(8, 64)
                .withCollectiveTimeout(Duration.ofSeconds(20));
        try (BlockingReplica replica = new BlockingReplica(config, TIMEOUT)) {
            Map<String, GenerationResult> first = replica.run(requests);
            // The replica lives on: a request after the poisoned one runs as usual.
            GenerationResult after = replica.runOne(healthy("after", 3, params(0f, 7)));
            assertTrue(after.ok(), () -> "the request after the poisoned one: " + after.error());
            return first;
        }
    }

    private static SamplingParams params(float temperature, long seed) {
        return new SamplingParams(temperature, 0.95f, 0, 16, seed, List.of(), true);
    }

    /** A prompt of token ids that never holds the poisoned token. */
    private static GenerationRequest healthy(String id, int salt, SamplingParams params) {
        int[] prompt = new int[5 + salt % 3];
        prompt[0] = 1;
        for (int j = 1; j < prompt.length; j++) {
            int token = 3 + (salt * 31 + j * 17) % (VOCAB - 3);
            prompt[j] = token == POISON ? token + 1 : token;
        }
        return new GenerationRequest(id, null, prompt, null, params);
    }

    private static List<GenerationRequest> healthyBatch() {
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            out.add(healthy("ok-" + i, i, params(i % 2 == 0 ? 0f : 0.9f, 100 + i)));
        }
        // Scored: its target is scored in the same steps as the poisoned prompt's prefill.
        out.add(new GenerationRequest("scored-ok", null, new int[] {1, 10, 11}, "t", params(0f, 1),
                new int[] {12, 13, 14}));
        return out;
    }

    @Test
    void onlyThePoisonedRequestsFailAndTheOthersKeepTheirTokensBitwise() throws Exception {
        for (int tp : new int[] {1, 2}) {
            Map<String, GenerationResult> clean = run(tp, healthyBatch());
            List<GenerationRequest> mixed = new ArrayList<>(healthyBatch());
            mixed.add(2, new GenerationRequest("poisoned", null, new int[] {1, 20, POISON, 21}, null, params(0f, 3)));
            mixed.add(4, new GenerationRequest("poisoned-sampled", null, new int[] {1, POISON}, null, params(0.9f, 4)));
            // The target feeds the poisoned token: scoring its next position overflows.
            mixed.add(new GenerationRequest("poisoned-scored", null, new int[] {1, 30}, "t", params(0f, 1),
                    new int[] {31, POISON, 32}));
            Map<String, GenerationResult> together = run(tp, mixed);

            for (String id : List.of("poisoned", "poisoned-sampled", "poisoned-scored")) {
                GenerationResult r = together.get(id);
                assertFalse(r.ok(), id + " must fail");
                assertEquals(GenerationResult.FinishReason.ERROR, r.finishReason(), id);
                assertTrue(r.error().contains("non-finite logit"), () -> id + ": " + r.error());
                assertEquals(0, r.tokenIds().length, id + " samples nothing from NaN logits");
            }
            assertTrue(together.get("poisoned").error().contains("prompt position 3"),
                    () -> together.get("poisoned").error());
            for (String id : clean.keySet()) {
                GenerationResult e = clean.get(id);
                GenerationResult a = together.get(id);
                assertTrue(e.ok() && a.ok(), () -> id + ": " + e.error() + " / " + a.error());
                assertArrayEquals(e.tokenIds(), a.tokenIds(), "TP=" + tp + ": tokens of " + id);
                assertArrayEquals(e.logprobs(), a.logprobs(), "TP=" + tp + ": logprobs (bitwise) of " + id);
                assertEquals(e.score(), a.score(), "score (bitwise, as a Double) of " + id);
            }
        }
    }

    @Test
    void firstNonFiniteFindsNanAndInfinitiesOnlyInItsRow() {
        float[] logits = {1f, 2f, Float.NaN, 0f, Float.NEGATIVE_INFINITY, 3f};
        assertEquals(2, StepAbsorber.firstNonFinite(logits, 0, 3));
        assertEquals(1, StepAbsorber.firstNonFinite(logits, 3, 3));
        assertEquals(-1, StepAbsorber.firstNonFinite(new float[] {0f, -1f, Float.MAX_VALUE}, 0, 3));
    }
}
