package io.streaminfer.operator;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.RequestProgress;
import io.streaminfer.engine.SamplingParams;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InferenceTypesTest {

    private static final GenerationRequest TEXT_REQUEST = new GenerationRequest("id-ü", "Once upon a time", null,
            "a target", new SamplingParams(0.7f, 0.9f, 40, 64, -5L, List.of("\n\n", "The end"), true));
    private static final GenerationRequest TOKEN_REQUEST = new GenerationRequest("t1", null, new int[] {1, 2, 3},
            null, SamplingParams.greedy(8));

    @Test
    void inputsRoundTripThroughTheirSerializer() throws IOException {
        TypeSerializer<InferenceInput> serializer = InferenceTypes.input().createSerializer(new SerializerConfigImpl());
        InferenceInput withAll = new InferenceInput(TEXT_REQUEST, "k", Map.of("a", "1", "b", "2"));
        InferenceInput bare = InferenceInput.of(TOKEN_REQUEST);
        for (InferenceInput in : List.of(withAll, bare)) {
            InferenceInput back = roundTrip(serializer, in);
            assertEquals(in, back);
        }
        assertNull(roundTrip(serializer, bare).key());
    }

    @Test
    void outputsRoundTripThroughTheirSerializer() throws IOException {
        TypeSerializer<InferenceOutput> serializer = InferenceTypes.output().createSerializer(new SerializerConfigImpl());
        GenerationResult ok = new GenerationResult("r", true, GenerationResult.FinishReason.STOP, null, "hi there",
                new int[] {1, 5}, new int[] {9, 8, 7}, new float[] {-0.5f, -1.25f, -0.125f}, -3.5, 3, 4, 12);
        InferenceOutput out = new InferenceOutput("k", Map.of("m", "v"), ok, 3, 2, "stories260K");
        InferenceOutput back = roundTrip(serializer, out);
        assertEquals(out.key(), back.key());
        assertEquals(out.metadata(), back.metadata());
        assertEquals(3, back.replicaIndex());
        assertEquals(2, back.tensorParallelSize());
        assertEquals("stories260K", back.modelName());
        assertResultEquals(ok, back.result());

        GenerationResult error = GenerationResult.error("e", "prompt too long: 600 tokens > context 512", 7);
        assertResultEquals(error, roundTrip(serializer, new InferenceOutput(null, Map.of(), error, 0, 1, "m")).result());
    }

    @Test
    void stateEntriesRoundTripEachKind() throws IOException {
        InferenceInput input = new InferenceInput(TEXT_REQUEST, "k", Map.of("a", "1"));
        RequestProgress progress = new RequestProgress(new int[] {4, 5, 6}, 0x1234_5678_9abcL);
        GenerationResult done = GenerationResult.error(TEXT_REQUEST.id(), "boom", 1);

        InFlightEntry fromStart = InFlightEntry.decode(InFlightEntry.running(input, null).encode());
        assertEquals(input, fromStart.input());
        assertNull(fromStart.progress());
        assertNull(fromStart.finished());

        InFlightEntry resumed = InFlightEntry.decode(InFlightEntry.running(input, progress).encode());
        assertEquals(progress, resumed.progress());

        InFlightEntry finished = InFlightEntry.decode(InFlightEntry.finished(input, done).encode());
        assertTrue(finished.isFinished());
        assertResultEquals(done, finished.finished());
    }

    @Test
    void stateEntryOfAnotherFormatVersionIsRejectedWithItsVersion() throws IOException {
        byte[] bytes = InFlightEntry.running(InferenceInput.of(TOKEN_REQUEST), null).encode();
        bytes[0] = 9;
        IOException e = assertThrows(IOException.class, () -> InFlightEntry.decode(bytes));
        assertTrue(e.getMessage().contains("format version 9"), e.getMessage());
    }

    @Test
    void serializerSnapshotRestoresTheSameSerializer() {
        assertSame(InferenceTypes.InputSerializer.INSTANCE,
                InferenceTypes.InputSerializer.INSTANCE.snapshotConfiguration().restoreSerializer());
        assertSame(InferenceTypes.OutputSerializer.INSTANCE,
                InferenceTypes.OutputSerializer.INSTANCE.snapshotConfiguration().restoreSerializer());
    }

    private static <T> T roundTrip(TypeSerializer<T> serializer, T value) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(value, out);
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        T back = serializer.deserialize(in);
        assertEquals(0, in.available(), "bytes left after deserializing");
        return back;
    }

    /** The fields of a result that are compared with equals (the arrays are compared element by element). */
    private static final List<Function<GenerationResult, Object>> SCALAR_FIELDS = List.of(
            GenerationResult::id, GenerationResult::ok, GenerationResult::finishReason, GenerationResult::error,
            GenerationResult::text, GenerationResult::score, GenerationResult::queuedMs,
            GenerationResult::firstTokenMs, GenerationResult::totalMs);

    private static void assertResultEquals(GenerationResult expected, GenerationResult actual) {
        for (Function<GenerationResult, Object> field : SCALAR_FIELDS) {
            assertEquals(field.apply(expected), field.apply(actual));
        }
        assertArrayEquals(expected.promptTokenIds(), actual.promptTokenIds());
        assertArrayEquals(expected.tokenIds(), actual.tokenIds());
        assertArrayEquals(expected.logprobs(), actual.logprobs());
    }
}
