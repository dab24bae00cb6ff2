package io.streaminfer.job.codec;

import io.streaminfer.job.convert.Samples;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a prompt came from and its bytes as received: a file and 1-based line (or record number, for Avro
 * container files), or a Kafka topic, partition and offset. A dead letter can be decided late (validation,
 * or an id already in flight at the operator), so the origin travels with the prompt until it is answered:
 * in the record's metadata, under keys starting with {@value #PREFIX}, which the completion does not carry
 * ({@link #strip}) and which producers may not use (nor the {@link Samples} keys). That keeps every type in between (the prompt, the
 * operator's input and its checkpointed state) as it is, at the price of the input's bytes in each
 * in-flight request's state.
 *
 * @param original the input's own bytes (a file line without its line end, a Kafka value), or null
 */
public record RecordOrigin(String file, Long line, String topic, Integer partition, Long offset, byte[] original) {
    /** Metadata keys starting with this are the job's own. */
    public static final String PREFIX = "streaminfer.origin.";
    private static final String FILE = PREFIX + "file";
    private static final String LINE = PREFIX + "line";
    private static final String TOPIC = PREFIX + "topic";
    private static final String PARTITION = PREFIX + "partition";
    private static final String OFFSET = PREFIX + "offset";
    private static final String BYTES = PREFIX + "bytes";

    public static RecordOrigin ofFile(String file, long line, byte[] original) {
        return new RecordOrigin(file, line, null, null, null, original);
    }

    public static RecordOrigin ofKafka(String topic, int partition, long offset, byte[] original) {
        return new RecordOrigin(null, null, topic, partition, offset, original);
    }

    /** {@code prompt} with this origin in its metadata (the prompt is changed and returned). */
    public PromptRecord attachTo(PromptRecord prompt) {
        Map<String, String> metadata = new LinkedHashMap<>(prompt.getMetadata() == null ? Map.of() : prompt.getMetadata());
        put(metadata, FILE, file);
        put(metadata, LINE, line);
        put(metadata, TOPIC, topic);
        put(metadata, PARTITION, partition);
        put(metadata, OFFSET, offset);
        if (original != null) {
            metadata.put(BYTES, Base64.getEncoder().encodeToString(original));
        }
        prompt.setMetadata(metadata);
        return prompt;
    }

    /** The origin attached to {@code metadata}, or null when it carries none. */
    public static RecordOrigin of(Map<String, String> metadata) {
        if (JobMetadata.firstKey(metadata, PREFIX) == null) {
            return null;
        }
        String bytes = metadata.get(BYTES);
        return new RecordOrigin(metadata.get(FILE), toLong(metadata.get(LINE)), metadata.get(TOPIC),
                metadata.get(PARTITION) == null ? null : Integer.valueOf(metadata.get(PARTITION)),
                toLong(metadata.get(OFFSET)), bytes == null ? null : Base64.getDecoder().decode(bytes));
    }

    /** {@code metadata} without the origin: what the producer sent, and what the completion carries. */
    public static Map<String, String> strip(Map<String, String> metadata) {
        return JobMetadata.without(metadata, PREFIX);
    }

    /** A dead letter of this input: the reason, its bytes and where it came from. */
    public DeadLetterRecord deadLetter(String id, String reason, Instant now) {
        DeadLetterRecord.Builder b = DeadLetterRecord.newBuilder().setId(id).setReason(reason)
                .setOriginal(original == null ? null : java.nio.ByteBuffer.wrap(original.clone())).setTimestamp(now)
                .setSourceFile(file).setSourceLine(line).setSourceTopic(topic).setSourcePartition(partition)
                .setSourceOffset(offset);
        return b.build();
    }

    /** Where, in words: {@code prompts.jsonl:12} or {@code prompts[0]@41}. */
    public String where() {
        return file != null ? file + (line != null ? ":" + line : "") : topic + "[" + partition + "]@" + offset;
    }

    private static void put(Map<String, String> metadata, String key, Object value) {
        if (value != null) {
            metadata.put(key, value.toString());
        }
    }

    private static Long toLong(String value) {
        return value == null ? null : Long.valueOf(value);
    }
}
