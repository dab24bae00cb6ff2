package io.streaminfer.operator;

import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.RequestProgress;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The versions of the state formats: what each serializer snapshot version means and how it resolves against
 * the current serializer, what each element layout and in-flight entry format reads, and the errors for
 * versions from a newer release. Restores of whole savepoints are in {@link SavepointRestoreTest}.
 */
class StateVersionsTest {
    private static final ClassLoader LOADER = StateVersionsTest.class.getClassLoader();
    private static final InferenceInput INPUT = SavepointFixtures.input(SavepointFixtures.PART_WAY);
    private static final InferenceOutput OUTPUT = TypedStateOperator.outputOf(
            SavepointFixtures.input(SavepointFixtures.DONE));

    // ---- serializer snapshots ----

    @Test
    void theFirstReleasesSnapshotBytesNameTheseClassesAndMeanLayout1() throws IOException {
        // What SimpleTypeSerializerSnapshot wrote (as in inference-types-v1.snapshot): class name, version 3, nothing.
        for (Class<?> type : List.of(InferenceTypes.InputSerializerSnapshot.class,
                InferenceTypes.OutputSerializerSnapshot.class)) {
            DataOutputSerializer out = new DataOutputSerializer(64);
            out.writeUTF(type.getName());
            out.writeInt(3);
            TypeSerializerSnapshot<?> read = TypeSerializerSnapshot.readVersionedSnapshot(
                    new DataInputDeserializer(out.getCopyOfBuffer()), LOADER);
            assertInstanceOf(type, read);
            assertEquals(InferenceCodec.LAYOUT_1, ((CodecSerializerSnapshot<?>) read).layout());
            assertEquals(InferenceCodec.LAYOUT_1, ((CodecSerializer<?>) read.restoreSerializer()).layout());
        }
    }

    @Test
    void compatibilityOfEachSnapshotVersionWithTheCurrentSerializer() throws IOException {
        checkCompatibility(InferenceTypes.InputSerializer.INSTANCE, new InferenceTypes.InputSerializerSnapshot());
        checkCompatibility(InferenceTypes.OutputSerializer.INSTANCE, new InferenceTypes.OutputSerializerSnapshot());
    }

    private static <T> void checkCompatibility(CodecSerializer<T> current, CodecSerializerSnapshot<T> blank)
            throws IOException {
        TypeSerializerSnapshot<T> now = current.snapshotConfiguration();
        assertEquals(CodecSerializerSnapshot.VERSION, now.getCurrentVersion());

        // version 3 (SimpleTypeSerializerSnapshot, the first release): layout 1, migrate
        blank.readSnapshot(CodecSerializerSnapshot.SIMPLE_SNAPSHOT_VERSION, new DataInputDeserializer(new byte[0]), LOADER);
        TypeSerializerSchemaCompatibility<T> legacy = now.resolveSchemaCompatibility(blank);
        assertTrue(legacy.isCompatibleAfterMigration(), legacy.toString());
        assertNotEquals(current, blank.restoreSerializer());

        // version 4 of the current layout, through Flink's own writer and reader: as is
        TypeSerializerSnapshot<T> same = roundTrip(now);
        assertTrue(now.resolveSchemaCompatibility(same).isCompatibleAsIs());
        assertEquals(current, same.restoreSerializer());

        // version 4 of layout 1 (what a restore serializer of the first release snapshots): migrate
        TypeSerializerSnapshot<T> layout1 = roundTrip(blank.restoreSerializer().snapshotConfiguration());
        assertEquals(InferenceCodec.LAYOUT_1, ((CodecSerializerSnapshot<T>) layout1).layout());
        assertTrue(now.resolveSchemaCompatibility(layout1).isCompatibleAfterMigration());
        // and the old serializer does not claim to read the new layout
        assertTrue(layout1.resolveSchemaCompatibility(now).isIncompatible());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    @Test
    void snapshotsOfOtherTypesAreIncompatible() {
        TypeSerializerSnapshot input = InferenceTypes.InputSerializer.INSTANCE.snapshotConfiguration();
        TypeSerializerSnapshot output = InferenceTypes.OutputSerializer.INSTANCE.snapshotConfiguration();
        assertTrue(input.resolveSchemaCompatibility(output).isIncompatible());
        assertTrue(output.resolveSchemaCompatibility(input).isIncompatible());
        assertTrue(input.resolveSchemaCompatibility(StringSerializer.INSTANCE.snapshotConfiguration()).isIncompatible());
    }

    @Test
    void aSnapshotFromANewerReleaseFailsNamingWhatThisReleaseReads() {
        var snapshot = new InferenceTypes.InputSerializerSnapshot();
        IOException version = assertThrows(IOException.class,
                () -> snapshot.readSnapshot(5, new DataInputDeserializer(new byte[0]), LOADER));
        assertMessage(version, "InputSerializerSnapshot", "snapshot version 5", "reads versions 3 and 4",
                "newer release");

        IOException layout = assertThrows(IOException.class,
                () -> snapshot.readSnapshot(4, new DataInputDeserializer(new byte[] {0, 0, 0, 4}), LOADER));
        assertMessage(layout, "layout 4", "reads layouts 1 to 3", "newer release");
    }

    // ---- element layouts ----

    @Test
    void theCurrentLayoutRoundTripsAndEveryElementBeginsWithIt() throws IOException {
        byte[] input = bytes(InferenceTypes.InputSerializer.INSTANCE, INPUT);
        assertEquals(InferenceCodec.CURRENT_LAYOUT, input[0]);
        assertEquals(INPUT, read(InferenceTypes.InputSerializer.INSTANCE, input));

        byte[] output = bytes(InferenceTypes.OutputSerializer.INSTANCE, OUTPUT);
        assertEquals(InferenceCodec.CURRENT_LAYOUT, output[0]);
        SavepointRestoreTest.assertOutputEquals(OUTPUT, read(InferenceTypes.OutputSerializer.INSTANCE, output));
    }

    @Test
    void layout2IsTheLayoutByteThenTheFieldsOfLayout1() throws IOException {
        CodecSerializer<InferenceInput> v1 = InferenceTypes.InputSerializer.forLayout(InferenceCodec.LAYOUT_1);
        byte[] old = bytes(v1, INPUT);
        byte[] current = bytes(InferenceTypes.InputSerializer.forLayout(InferenceCodec.LAYOUT_2), INPUT);
        assertArrayEquals(old, Arrays.copyOfRange(current, 1, current.length));
        assertEquals(INPUT, read(v1, old), "a restore serializer writes and reads its own layout");

        CodecSerializer<InferenceOutput> out1 = InferenceTypes.OutputSerializer.forLayout(InferenceCodec.LAYOUT_1);
        SavepointRestoreTest.assertOutputEquals(OUTPUT, read(out1, bytes(out1, OUTPUT)));
    }

    @Test
    void layout3CarriesATargetsTokenIdsAndOlderLayoutsReadNone() throws IOException {
        InferenceInput scoring = new InferenceInput(new io.streaminfer.engine.GenerationRequest("s", "Once upon",
                new int[] {1, 403, 407}, " a time", io.streaminfer.engine.SamplingParams.greedy(1),
                new int[] {261, 378}), "k", java.util.Map.of());
        InferenceInput back = read(InferenceTypes.InputSerializer.INSTANCE,
                bytes(InferenceTypes.InputSerializer.INSTANCE, scoring));
        assertEquals(scoring, back);
        assertArrayEquals(new int[] {261, 378}, back.request().targetTokenIds());
        CodecSerializer<InferenceInput> v2 = InferenceTypes.InputSerializer.forLayout(InferenceCodec.LAYOUT_2);
        InferenceInput old = read(v2, bytes(v2, scoring));
        assertEquals(null, old.request().targetTokenIds(), "layout 2 cannot say them: the replica splits the texts");
        assertEquals(scoring.request().target(), old.request().target());
        assertEquals(InferenceCodec.LAYOUT_2, bytes(v2, scoring)[0]);
    }

    @Test
    void anElementOfANewerLayoutFailsNamingItsLayout() throws IOException {
        byte[] input = bytes(InferenceTypes.InputSerializer.INSTANCE, INPUT);
        input[0] = 4;
        IOException e = assertThrows(IOException.class, () -> read(InferenceTypes.InputSerializer.INSTANCE, input));
        assertMessage(e, "input element has layout 4", "reads layouts 1 to 3", "newer release");

        byte[] output = bytes(InferenceTypes.OutputSerializer.INSTANCE, OUTPUT);
        output[0] = 0;
        assertMessage(assertThrows(IOException.class, () -> read(InferenceTypes.OutputSerializer.INSTANCE, output)),
                "output element has layout 0", "corrupt");
    }

    // ---- in-flight entries ----

    @Test
    void entriesOfFormats1And2DecodeToTheSameEntryOfEachKind() throws IOException {
        RequestProgress progress = new RequestProgress(new int[] {4, 5, 6}, 0x1234_5678_9abcL);
        GenerationResult done = OUTPUT.result();
        for (InFlightEntry entry : List.of(InFlightEntry.running(INPUT, null), InFlightEntry.running(INPUT, progress),
                InFlightEntry.finished(INPUT, done))) {
            byte[] v1 = entry.encode(InFlightEntry.FORMAT_1);
            byte[] v2 = entry.encode();
            assertEquals(InFlightEntry.FORMAT_1, v1[0]);
            assertEquals(InFlightEntry.CURRENT_FORMAT, v2[0]);
            int elements = entry.progress() != null || entry.isFinished() ? 2 : 1;
            assertEquals(v1.length + elements + Integer.BYTES, v2.length,
                    "format 2 adds one layout byte per element; layout 3 the target's token ids (none: -1)");
            for (byte[] bytes : List.of(v1, v2)) {
                InFlightEntry back = InFlightEntry.decode(bytes);
                assertEquals(entry.input(), back.input());
                assertEquals(entry.progress(), back.progress());
                if (entry.isFinished()) {
                    SavepointRestoreTest.assertResultEquals(done, back.finished());
                }
            }
        }
    }

    @Test
    void anEntryOfANewerFormatFailsNamingItsFormatAndWhatThisReleaseReads() throws IOException {
        byte[] bytes = InFlightEntry.running(INPUT, null).encode();
        bytes[0] = 3;
        assertMessage(assertThrows(IOException.class, () -> InFlightEntry.decode(bytes)), "format version 3",
                "reads format versions 1 to 2", "newer release");
    }

    @Test
    void anEntryWithBytesAfterItsEndFails() throws IOException {
        byte[] bytes = InFlightEntry.running(INPUT, null).encode();
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);
        assertMessage(assertThrows(IOException.class, () -> InFlightEntry.decode(longer)), SavepointFixtures.PART_WAY,
                "3 bytes after its end");
    }

    // ---- helpers ----

    private static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' lacks '" + part + "'");
        }
    }

    private static <T> TypeSerializerSnapshot<T> roundTrip(TypeSerializerSnapshot<T> snapshot) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        TypeSerializerSnapshot<T> back = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), LOADER);
        assertSame(snapshot.getClass(), back.getClass());
        return back;
    }

    private static <T> byte[] bytes(TypeSerializer<T> serializer, T value) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(value, out);
        return out.getCopyOfBuffer();
    }

    private static <T> T read(TypeSerializer<T> serializer, byte[] bytes) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(bytes);
        T value = serializer.deserialize(in);
        assertEquals(0, in.available(), "bytes left after the element");
        return value;
    }
}
