package io.streaminfer.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;

/**
 * Records written by every release read with today's classes: real bytes of release 1's plain binary and of each
 * release's single-object encoding (written from the release's own schema file, as that release's code wrote
 * them), and today's bytes as Avro's own single-object decoder reads them.
 */
class ReleasedSchemasTest {
    private static final List<Class<? extends org.apache.avro.specific.SpecificRecord>> TYPES =
            List.of(PromptRecord.class, CompletionRecord.class, DeadLetterRecord.class);

    /** A release-1 PromptRecord as release 1's producers built it: every field, defaults for the unset ones. */
    private static GenericRecord releaseOnePrompt() {
        Schema v1 = SchemaReleases.of(PromptRecord.class).first();
        GenericRecord r = withDefaults(v1);
        r.put("id", "old-1");
        r.put("key", "user-9");
        r.put("prompt", "Once upon a time");
        r.put("max_tokens", 32);
        r.put("temperature", 0f);
        r.put("stop", List.of("\n\n"));
        r.put("metadata", Map.of("from", "release 1"));
        r.put("created_at", 1_700_000_000_000L);
        return r;
    }

    private static GenericRecord withDefaults(Schema schema) {
        GenericRecord r = new GenericData.Record(schema);
        for (Schema.Field f : schema.getFields()) {
            if (f.hasDefaultValue()) {
                r.put(f.name(), GenericData.get().deepCopy(f.schema(), GenericData.get().getDefaultValue(f)));
            }
        }
        return r;
    }

    private static byte[] plainBinary(GenericRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, enc);
        enc.flush();
        return out.toByteArray();
    }

    private static byte[] singleObject(GenericRecord record) throws IOException {
        return new BinaryMessageEncoder<GenericRecord>(GenericData.get(), record.getSchema()).encode(record).array();
    }

    private static void assertReleaseOneFields(PromptRecord read) {
        assertEquals("old-1", read.getId());
        assertEquals("user-9", read.getKey());
        assertEquals("Once upon a time", read.getPrompt());
        assertEquals(32, read.getMaxTokens());
        assertEquals(0f, read.getTemperature());
        assertEquals(List.of("\n\n"), read.getStop());
        assertEquals(Map.of("from", "release 1"), read.getMetadata());
        assertEquals(Instant.ofEpochMilli(1_700_000_000_000L), read.getCreatedAt());
        assertNull(read.getMessages(), "fields release 1 did not know take their defaults");
        assertNull(read.getChatTemplateKwargs());
        assertEquals(1, read.getN());
    }

    @Test
    void theNewestReleaseIsTheGeneratedSchemaAndEveryReleaseIsKept() {
        for (Class<? extends org.apache.avro.specific.SpecificRecord> type : TYPES) {
            SchemaReleases releases = SchemaReleases.of(type);
            assertEquals(SchemaReleases.fingerprint(SpecificData.get().getSchema(type)),
                    SchemaReleases.fingerprint(releases.latest()), type.getSimpleName());
        }
        assertEquals(2, SchemaReleases.of(PromptRecord.class).all().size());
        assertEquals(2, SchemaReleases.of(CompletionRecord.class).all().size());
        assertEquals(1, SchemaReleases.of(DeadLetterRecord.class).all().size());
    }

    @Test
    void releaseOneHasTheFieldsItShippedWith() {
        Schema v1 = SchemaReleases.of(PromptRecord.class).first();
        assertEquals(List.of("id", "key", "prompt", "prompt_token_ids", "target", "max_tokens", "temperature", "top_p",
                        "top_k", "seed", "stop", "logprobs", "model", "metadata", "created_at"),
                v1.getFields().stream().map(Schema.Field::name).toList());
        assertEquals(18, SchemaReleases.of(CompletionRecord.class).first().getFields().size());
    }

    @Test
    void everyReleaseReadsWithTodaysSchemaAndTodaysRecordsReadWithEveryRelease() {
        for (Class<? extends org.apache.avro.specific.SpecificRecord> type : TYPES) {
            Schema today = SpecificData.get().getSchema(type);
            for (Schema release : SchemaReleases.of(type).all()) {
                assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
                        SchemaCompatibility.checkReaderWriterCompatibility(today, release).getType(), type.getName());
                assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
                        SchemaCompatibility.checkReaderWriterCompatibility(release, today).getType(), type.getName());
            }
        }
    }

    @Test
    void releaseOnePlainBinaryStillReads() throws Exception {
        PromptRecord read = new RecordWire<>(PromptRecord.class).decode(plainBinary(releaseOnePrompt()));
        assertReleaseOneFields(read);
    }

    @Test
    void releaseOneSingleObjectBytesRead() throws Exception {
        byte[] bytes = singleObject(releaseOnePrompt());
        assertEquals((byte) 0xC3, bytes[0]);
        assertReleaseOneFields(new RecordWire<>(PromptRecord.class).decode(bytes));
    }

    @Test
    void todaysRecordsRoundTripAndAvrosOwnDecoderReadsThem() throws Exception {
        PromptRecord chat = PromptRecord.newBuilder().setId("new-1")
                .setMessages(List.of(new Message("system", "Be brief."), new Message("user", "Hi")))
                .setChatTemplateKwargs(Map.of("enable_thinking", false, "depth", 3L)).setN(1).build();
        RecordWire<PromptRecord> wire = new RecordWire<>(PromptRecord.class);
        byte[] bytes = wire.encode(chat);
        assertEquals(chat, wire.decode(bytes));
        assertEquals(chat, PromptRecord.getDecoder().decode(bytes), "Avro's BinaryMessageDecoder reads our bytes");
        assertArrayEquals(PromptRecord.getEncoder().encode(chat).array(), bytes, "and writes the same bytes");
    }

    @Test
    void releaseOneReadersStillReadTodaysCompletionsWithAvrosDecoder() throws Exception {
        CompletionRecord today = CompletionRecord.newBuilder().setId("c1").setStatus(CompletionStatus.OK)
                .setFinishReason("stop").setText("Hello").setTokenIds(List.of(5, 6))
                .setChoices(List.of(new Choice(0, "Hello", List.of(5, 6), "stop", null))).build();
        byte[] bytes = new RecordWire<>(CompletionRecord.class).encode(today);
        BinaryMessageDecoder<GenericRecord> releaseOne = new BinaryMessageDecoder<>(GenericData.get(),
                SchemaReleases.of(CompletionRecord.class).first());
        releaseOne.addSchema(CompletionRecord.getClassSchema()); // a release-1 consumer told about today's schema
        GenericRecord read = releaseOne.decode(bytes);
        assertEquals("Hello", read.get("text").toString());
        assertNull(read.getSchema().getField("choices"), "release 1 does not see fields it does not know");
    }

    /** What a client holding only the .avsc files does (the deploy smoke's client): Avro's own message codec. */
    @Test
    void aClientWithTheAvscFilesSpeaksTheWireFormatBothWays() throws Exception {
        Schema prompt = new Schema.Parser().parse(new java.io.File("src/main/avro/PromptRecord.avsc"));
        Schema completion = new Schema.Parser().parse(new java.io.File("src/main/avro/CompletionRecord.avsc"));
        GenericRecord p = withDefaults(prompt);
        p.put("id", "smoke-1");
        p.put("prompt", "Once upon a time");
        p.put("created_at", 1_700_000_000_000L);
        PromptRecord read = new RecordWire<>(PromptRecord.class).decode(singleObject(p));
        assertEquals("smoke-1", read.getId());
        assertEquals(Instant.ofEpochMilli(1_700_000_000_000L), read.getCreatedAt());

        CompletionRecord c = CompletionRecord.newBuilder().setId("smoke-1").setStatus(CompletionStatus.OK)
                .setFinishReason("length").setCompletionTokens(3).build();
        GenericRecord back = new BinaryMessageDecoder<GenericRecord>(GenericData.get(), completion)
                .decode(new RecordWire<>(CompletionRecord.class).encode(c));
        assertEquals("smoke-1", back.get("id").toString());
        assertEquals(3, back.get("completion_tokens"));
        for (Class<? extends org.apache.avro.specific.SpecificRecord> type : TYPES) {
            String name = SpecificData.get().getSchema(type).getName();
            Schema file = new Schema.Parser().parse(new java.io.File("src/main/avro/" + name + ".avsc"));
            assertEquals(SchemaReleases.fingerprint(SchemaReleases.of(type).latest()), SchemaReleases.fingerprint(file),
                    name + ".avsc changed: keep it as a new release file under releases/");
        }
    }

    @Test
    void aSchemaNoReleaseKnowsIsRefusedByName() throws Exception {
        Schema newer = withExtraField(PromptRecord.getClassSchema());
        GenericRecord r = withDefaults(newer);
        r.put("id", "future");
        UnreadableRecordException e = assertThrows(UnreadableRecordException.class,
                () -> new RecordWire<>(PromptRecord.class).decode(singleObject(r)));
        assertTrue(e.getMessage().contains("schema this job does not know"), e.getMessage());
        assertTrue(e.getMessage().contains(String.format("%016x", SchemaReleases.fingerprint(newer))), e.getMessage());
    }

    @Test
    void truncatedTrailingAndEmptyBytesAreRefused() throws Exception {
        RecordWire<PromptRecord> wire = new RecordWire<>(PromptRecord.class);
        byte[] good = wire.encode(PromptRecord.newBuilder().setId("a").setPrompt("x").build());
        for (byte[] bad : List.of(new byte[0], Arrays.copyOf(good, 5), Arrays.copyOf(good, good.length - 1),
                Arrays.copyOf(good, good.length + 1))) {
            assertThrows(UnreadableRecordException.class, () -> wire.decode(bad), Arrays.toString(bad));
        }
        byte[] hugeLength = {(byte) 0xC3, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
        System.arraycopy(good, 2, hugeLength, 2, 8);
        byte[] bomb = Arrays.copyOf(hugeLength, 15);
        ByteBuffer.wrap(bomb, 10, 5).put(new byte[] {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F});
        assertThrows(UnreadableRecordException.class, () -> wire.decode(bomb), "a 2 GB id length allocates nothing");
    }

    private static Schema withExtraField(Schema today) {
        List<Schema.Field> fields = new java.util.ArrayList<>();
        for (Schema.Field f : today.getFields()) {
            fields.add(new Schema.Field(f, f.schema()));
        }
        fields.add(new Schema.Field("priority", Schema.create(Schema.Type.INT), null, 5));
        return Schema.createRecord(today.getName(), null, today.getNamespace(), false, fields);
    }
}
