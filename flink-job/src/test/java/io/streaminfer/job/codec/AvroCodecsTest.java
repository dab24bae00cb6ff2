package io.streaminfer.job.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.types.Either;
import org.apache.flink.util.InstantiationUtil;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class AvroCodecsTest {
    private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    static PromptRecord prompt() {
        return PromptRecord.newBuilder().setId("a1").setKey("user-7").setPrompt("Once upon a time")
                .setMaxTokens(64).setTemperature(0f).setStop(List.of("\n")).setSeed(42L)
                .setMetadata(Map.of("run", "r1")).setCreatedAt(Instant.ofEpochMilli(1_700_000_000_123L)).build();
    }

    private static ConsumerRecord<byte[], byte[]> kafkaRecord(byte[] value) {
        return new ConsumerRecord<>("prompts", 3, 17L, "k".getBytes(StandardCharsets.UTF_8), value);
    }

    @Test
    void promptRoundTripsThroughAvroBinary() throws Exception {
        AvroCodec<PromptRecord> codec = new AvroCodec<>(PromptRecord.class);
        byte[] bytes = codec.encode(prompt());
        assertEquals(prompt(), codec.decode(bytes));
    }

    @Test
    void aReleaseOneProducersPlainBinaryStillBecomesAPrompt() throws Exception {
        org.apache.avro.Schema v1 = io.streaminfer.schemas.SchemaReleases.of(PromptRecord.class).first();
        org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericData.Record(v1);
        for (org.apache.avro.Schema.Field f : v1.getFields()) {
            if (f.hasDefaultValue()) {
                old.put(f.name(), org.apache.avro.generic.GenericData.get().getDefaultValue(f));
            }
        }
        old.put("id", "v1");
        old.put("prompt", "Once upon a time");
        old.put("metadata", Map.of());
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        org.apache.avro.io.BinaryEncoder enc = org.apache.avro.io.EncoderFactory.get().binaryEncoder(bytes, null);
        new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(v1).write(old, enc);
        enc.flush();
        Either<DeadLetterRecord, PromptRecord> out = new PromptKafkaDeserializationSchema(CLOCK)
                .decode(kafkaRecord(bytes.toByteArray()));
        assertTrue(out.isRight(), () -> out.left().getReason());
        assertEquals("Once upon a time", out.right().getPrompt());
        assertEquals(1, out.right().getN());
        assertNull(out.right().getMessages());
        byte[] written = new AvroCodec<>(PromptRecord.class).encode(out.right());
        assertEquals((byte) 0xC3, written[0], "this release writes single-object encoding");
    }

    @Test
    void deserializerEmitsPromptForGoodBytes() {
        byte[] bytes = new AvroCodec<>(PromptRecord.class).encode(prompt());
        Either<DeadLetterRecord, PromptRecord> out = new PromptKafkaDeserializationSchema(CLOCK).decode(kafkaRecord(bytes));
        assertTrue(out.isRight());
        RecordOrigin origin = RecordOrigin.of(out.right().getMetadata());
        assertEquals("prompts", origin.topic());
        assertEquals(3, origin.partition());
        assertEquals(17L, origin.offset());
        assertArrayEquals(bytes, origin.original());
        out.right().setMetadata(RecordOrigin.strip(out.right().getMetadata()));
        assertEquals(prompt(), out.right(), "the record as sent, once its origin is taken off");
    }

    @Test
    void deserializerTurnsGarbageIntoDeadLetterWithSourceAndBytes() {
        byte[] garbage = "definitely not avro".getBytes(StandardCharsets.UTF_8);
        Either<DeadLetterRecord, PromptRecord> out = new PromptKafkaDeserializationSchema(CLOCK).decode(kafkaRecord(garbage));
        assertTrue(out.isLeft());
        DeadLetterRecord dl = out.left();
        assertTrue(dl.getReason().contains("PromptRecord"), dl.getReason());
        assertEquals(ByteBuffer.wrap(garbage), dl.getOriginal());
        assertEquals("prompts", dl.getSourceTopic());
        assertEquals(3, dl.getSourcePartition());
        assertEquals(17L, dl.getSourceOffset());
        assertEquals(NOW, dl.getTimestamp());
    }

    @Test
    void truncatedTrailingAndEmptyMessagesAreDeadLetters() {
        PromptKafkaDeserializationSchema schema = new PromptKafkaDeserializationSchema(CLOCK);
        byte[] good = new AvroCodec<>(PromptRecord.class).encode(prompt());
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
        byte[] trailing = java.util.Arrays.copyOf(good, good.length + 2);
        assertTrue(schema.decode(kafkaRecord(truncated)).isLeft());
        DeadLetterRecord t = schema.decode(kafkaRecord(trailing)).left();
        assertTrue(t.getReason().contains("trailing"), t.getReason());
        assertTrue(schema.decode(kafkaRecord(new byte[0])).left().getReason().contains("empty"));
        assertTrue(schema.decode(kafkaRecord(null)).left().getReason().contains("null value"));
    }

    @Test
    void kafkaDeadLettersNameTheProducersMistake() {
        PromptKafkaDeserializationSchema schema = new PromptKafkaDeserializationSchema(CLOCK);
        String json = schema.decode(kafkaRecord("{\"id\":\"a1\",\"prompt\":\"hi\"}".getBytes(StandardCharsets.UTF_8)))
                .left().getReason();
        assertTrue(json.contains("looks like JSON text, but this topic takes Avro binary"), json);
        byte[] good = new AvroCodec<>(PromptRecord.class).encode(prompt());
        String truncated = schema.decode(kafkaRecord(java.util.Arrays.copyOf(good, 13))).left().getReason();
        assertTrue(truncated.contains("the bytes end before the record does"), truncated);
        for (String reason : List.of(json, truncated)) {
            assertFalse(reason.contains("Exception") || reason.contains("Index"), reason);
        }
    }

    @Test
    void kafkaTextThatIsNotUtf8IsADeadLetterNotAReplacement() {
        PromptKafkaDeserializationSchema schema = new PromptKafkaDeserializationSchema(CLOCK);
        PromptRecord p = prompt();
        p.setId("id-X");
        byte[] bytes = new AvroCodec<>(PromptRecord.class).encode(p);
        // after the single-object header (C3 01, 8 fingerprint bytes) the record starts with the id: its
        // length (4, zig-zag 0x08), then "id-X"
        int start = bytes[0] == (byte) 0xC3 && bytes[1] == 1 ? 10 : 0;
        assertEquals(8, bytes[start]);
        assertEquals('X', bytes[start + 4]);
        bytes[start + 4] = (byte) 0xC3; // starts a 2-byte sequence that the id's end does not finish
        Either<DeadLetterRecord, PromptRecord> out = schema.decode(kafkaRecord(bytes));
        assertTrue(out.isLeft(), "an id the producer never sent must not run");
        assertTrue(out.left().getReason().startsWith("field \"id\" is not valid UTF-8"), out.left().getReason());
        assertNull(out.left().getId());
        assertArrayEquals(bytes, toArray(out.left().getOriginal()));
        // a U+FFFD sent on purpose is text like any other
        p.setId("id-\uFFFD");
        assertTrue(schema.decode(kafkaRecord(new AvroCodec<>(PromptRecord.class).encode(p))).isRight());
        // the job's own metadata keys are not the producer's to set
        p.setMetadata(java.util.Map.of(RecordOrigin.PREFIX + "line", "1"));
        assertTrue(schema.decode(kafkaRecord(new AvroCodec<>(PromptRecord.class).encode(p))).left().getReason()
                .contains("is reserved"));
    }

    @Test
    void hugeLengthPrefixIsRejectedWithoutAllocating() {
        // id string length: zig-zag varint of 2^30, then nothing. A naive decode would allocate 1 GiB.
        byte[] bytes = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08, 'a'};
        Either<DeadLetterRecord, PromptRecord> out = new PromptKafkaDeserializationSchema(CLOCK).decode(kafkaRecord(bytes));
        assertTrue(out.isLeft());
    }

    @Test
    void randomBytesNeverThrow() {
        PromptKafkaDeserializationSchema schema = new PromptKafkaDeserializationSchema(CLOCK);
        Random random = new Random(7);
        int deadLetters = 0;
        for (int i = 0; i < 2000; i++) {
            byte[] bytes = new byte[1 + random.nextInt(64)];
            random.nextBytes(bytes);
            Either<DeadLetterRecord, PromptRecord> out = schema.decode(kafkaRecord(bytes));
            if (out.isLeft()) {
                deadLetters++;
                assertArrayEquals(bytes, toArray(out.left().getOriginal()));
            }
        }
        assertTrue(deadLetters > 1000, "most random inputs are invalid: " + deadLetters);
    }

    @Test
    void completionSerializerKeysById() throws Exception {
        CompletionRecord c = CompletionRecord.newBuilder().setId("a1").setStatus(CompletionStatus.OK)
                .setFinishReason("length").setText("hi").setTokenIds(List.of(5, 6)).build();
        AvroKafkaSerializationSchema<CompletionRecord> schema = AvroKafkaSerializationSchema.completions("completions");
        schema = InstantiationUtil.clone(schema); // Flink ships it to the task managers
        ProducerRecord<byte[], byte[]> out = schema.serialize(c, null, 5L);
        assertEquals("completions", out.topic());
        assertEquals("a1", new String(out.key(), StandardCharsets.UTF_8));
        assertEquals(5L, out.timestamp());
        assertEquals(c, new AvroCodec<>(CompletionRecord.class).decode(out.value()));
    }

    @Test
    void deadLetterSerializerHasNoKeyWhenIdUnknown() throws Exception {
        DeadLetterRecord dl = DeadLetters.fromKafka(null, "bad", new byte[] {1, 2}, "prompts", 0, 9, NOW);
        ProducerRecord<byte[], byte[]> out = AvroKafkaSerializationSchema.deadLetters("dead").serialize(dl, null, null);
        assertNull(out.key());
        assertEquals(dl, new AvroCodec<>(DeadLetterRecord.class).decode(out.value()));
    }

    @Test
    void eitherTypeSerializesThroughFlinkWithoutKryo() throws Exception {
        TypeSerializer<Either<DeadLetterRecord, PromptRecord>> serializer =
                RecordTypes.promptOrDeadLetter().createSerializer(new SerializerConfigImpl());
        DeadLetterRecord dl = DeadLetters.fromFile("x", "reason", new byte[] {9}, "in.jsonl", 4, NOW);
        Map<String, Object> kwargs = new java.util.HashMap<>(Map.of("enable_thinking", false, "depth", 2L, "r", 0.5));
        kwargs.put("none", null);
        PromptRecord chat = PromptRecord.newBuilder().setId("c1").setChatTemplateKwargs(kwargs)
                .setMessages(List.of(new io.streaminfer.schemas.Message("user", "Hi"))).build();
        for (Either<DeadLetterRecord, PromptRecord> value : List.<Either<DeadLetterRecord, PromptRecord>>of(
                Either.Right(prompt()), Either.Left(dl), Either.Right(chat))) {
            DataOutputSerializer out = new DataOutputSerializer(256);
            serializer.serialize(value, out);
            Either<DeadLetterRecord, PromptRecord> back = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            assertEquals(value, back);
        }
    }

    private static byte[] toArray(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
