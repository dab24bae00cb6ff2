package io.streaminfer.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/**
 * Old and new readers and writers keep working when a field with a default is added. The released schemas
 * themselves, and real bytes their writers produced, are read in {@link ReleasedSchemasTest}.
 */
class SchemaEvolutionTest {

    /** Today's PromptRecord schema plus one field, as a later version might add it. */
    private static Schema promptSchemaWithExtraField() {
        Schema today = PromptRecord.getClassSchema();
        List<Schema.Field> fields = new java.util.ArrayList<>();
        for (Schema.Field f : today.getFields()) {
            fields.add(new Schema.Field(f, f.schema()));
        }
        fields.add(new Schema.Field("priority", SchemaBuilder.builder().intType(), "added later", 5));
        return Schema.createRecord(today.getName(), today.getDoc(), today.getNamespace(), false, fields);
    }

    private static PromptRecord sample() {
        return PromptRecord.newBuilder()
                .setId("a1").setPrompt("Once upon a time").setMaxTokens(64).setTemperature(0f)
                .setStop(List.of("\n\n")).setMetadata(Map.of("user", "u7"))
                .build();
    }

    @Test
    void newReaderReadsRecordWrittenWithTodaysSchema() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(PromptRecord.class).write(sample(), enc);
        enc.flush();

        Schema newer = promptSchemaWithExtraField();
        GenericRecord read = new GenericDatumReader<GenericRecord>(PromptRecord.getClassSchema(), newer)
                .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));

        assertEquals("a1", read.get("id").toString());
        assertEquals("Once upon a time", read.get("prompt").toString());
        assertEquals(64, read.get("max_tokens"));
        assertEquals(5, read.get("priority"), "the added field takes its default");
    }

    @Test
    void todaysReaderReadsRecordWrittenWithNewerSchema() throws IOException {
        Schema newer = promptSchemaWithExtraField();
        GenericRecord rec = new GenericData.Record(newer);
        for (Schema.Field f : newer.getFields()) {
            if (f.hasDefaultValue()) {
                rec.put(f.name(), GenericData.get().getDefaultValue(f));
            }
        }
        rec.put("id", "b2");
        rec.put("prompt_token_ids", List.of(1, 42, 7));
        rec.put("top_k", 40);
        rec.put("priority", 9);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(newer).write(rec, enc);
        enc.flush();

        PromptRecord read = new SpecificDatumReader<PromptRecord>(newer, PromptRecord.getClassSchema())
                .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));

        assertEquals("b2", read.getId());
        assertEquals(List.of(1, 42, 7), read.getPromptTokenIds());
        assertEquals(40, read.getTopK());
        assertNull(read.getPrompt());
        assertEquals(Map.of(), read.getMetadata());
    }

    @Test
    void everySchemaIsCompatibleBothWaysWithAnAddedDefaultedField() {
        for (Schema today : List.of(PromptRecord.getClassSchema(), CompletionRecord.getClassSchema(),
                DeadLetterRecord.getClassSchema())) {
            List<Schema.Field> fields = new java.util.ArrayList<>();
            for (Schema.Field f : today.getFields()) {
                fields.add(new Schema.Field(f, f.schema()));
            }
            fields.add(new Schema.Field("extra", SchemaBuilder.builder().stringType(), null, "x"));
            Schema newer = Schema.createRecord(today.getName(), null, today.getNamespace(), false, fields);
            assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
                    SchemaCompatibility.checkReaderWriterCompatibility(newer, today).getType(), today.getName());
            assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
                    SchemaCompatibility.checkReaderWriterCompatibility(today, newer).getType(), today.getName());
        }
    }

    @Test
    void everyOptionalFieldHasADefault() {
        for (Schema s : List.of(PromptRecord.getClassSchema(), CompletionRecord.getClassSchema(),
                DeadLetterRecord.getClassSchema())) {
            for (Schema.Field f : s.getFields()) {
                if (f.schema().isNullable()) {
                    assertEquals(true, f.hasDefaultValue(), s.getName() + "." + f.name() + " is optional without default");
                }
            }
        }
    }
}
