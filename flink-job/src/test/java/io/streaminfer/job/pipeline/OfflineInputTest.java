package io.streaminfer.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.schemas.PromptRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The offline input is counted before the job starts: a damaged Avro file is refused there, in one line. */
class OfflineInputTest {
    @TempDir
    Path dir;

    @Test
    void aDamagedAvroContainerFileIsRefusedNamingTheFileAndRecord() throws Exception {
        Path good = dir.resolve("prompts.avro");
        try (DataFileWriter<PromptRecord> writer = new DataFileWriter<>(new SpecificDatumWriter<>(PromptRecord.class))) {
            writer.create(PromptRecord.getClassSchema(), good.toFile());
            for (int i = 0; i < 3; i++) {
                writer.append(PromptRecord.newBuilder().setId("p" + i).setPrompt("Once upon a time").build());
                writer.sync(); // one block per record, so the damage lies after the first two
            }
        }
        assertEquals(3, OfflineJob.countRecords(good, true));

        byte[] bytes = Files.readAllBytes(good);
        bytes[bytes.length - 1] ^= 0x5A; // the sync marker after the third record's block
        Path damaged = Files.write(dir.resolve("damaged.avro"), bytes);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OfflineJob.countRecords(damaged, true));
        assertTrue(e.getMessage().startsWith("--input " + damaged + " is not a readable Avro container file of"
                + " PromptRecords (after record 2: "), e.getMessage());
        assertTrue(!e.getMessage().contains("Exception"), "the reason, not Avro's wrapper: " + e.getMessage());

        Path text = Files.writeString(dir.resolve("text.avro"), "{\"id\": \"a\", \"prompt\": \"b\"}\n");
        e = assertThrows(IllegalArgumentException.class, () -> OfflineJob.countRecords(text, true));
        assertTrue(e.getMessage().contains("(at its start: "), e.getMessage());
    }
}
