package io.streaminfer.job.codec;

import java.io.EOFException;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.IndexedRecord;

/**
 * What is wrong with a Kafka value that is not a good Avro PromptRecord, in the producer's terms (Avro's
 * own messages say {@code Index -61 out of bounds} or {@code EOFException}), and the check that its text
 * decoded as UTF-8 (Avro replaces undecodable bytes with U+FFFD, which would change an id).
 */
final class AvroInputChecks {
    private static final byte[] REPLACEMENT_UTF8 = {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD};

    private AvroInputChecks() {}

    /** The reason {@code value} did not decode, from the decoder's exception. */
    static String undecodable(byte[] value, InvalidRecordException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        int cut = message.indexOf(" bytes): ");
        String prefix = cut >= 0 ? message.substring(0, cut + " bytes)".length())
                : "not a valid Avro PromptRecord (" + value.length + " bytes)";
        if (looksLikeJson(value)) {
            return "not a valid Avro PromptRecord (" + value.length + " bytes): it looks like JSON text, but this topic"
                    + " takes Avro binary PromptRecords"
                    + " (schemas/src/main/avro/PromptRecord.avsc, in Avro's single-object encoding); JSON Lines are"
                    + " for offline --input files";
        }
        Throwable cause = e.getCause();
        if (cause instanceof EOFException) {
            return prefix + ": the bytes end before the record does (truncated, or written with another schema)";
        }
        if (cause instanceof IndexOutOfBoundsException || cause instanceof NegativeArraySizeException) {
            return prefix + ": a field's type tag or length is out of range (written with another schema, or not Avro)";
        }
        return message;
    }

    private static boolean looksLikeJson(byte[] value) {
        for (byte b : value) {
            if (b == ' ' || b == '\t' || b == '\r' || b == '\n') {
                continue;
            }
            return b == '{' || b == '[';
        }
        return false;
    }

    /**
     * The name of a string field (or null) where Avro's decoding replaced undecodable bytes: the record's text
     * holds more U+FFFD characters than the bytes hold encoded U+FFFDs, which a producer may send on purpose.
     */
    static String replacedText(IndexedRecord record, byte[] value) {
        int sent = occurrences(value, REPLACEMENT_UTF8);
        int[] seen = {0};
        String[] where = {null};
        count(record, "", seen, where);
        return seen[0] > sent ? where[0] : null;
    }

    private static void count(Object value, String path, int[] seen, String[] where) {
        if (value instanceof CharSequence text) {
            int n = (int) text.chars().filter(c -> c == 0xFFFD).count();
            if (n > 0 && where[0] == null) {
                where[0] = path;
            }
            seen[0] += n;
        } else if (value instanceof IndexedRecord record) {
            for (org.apache.avro.Schema.Field f : record.getSchema().getFields()) {
                count(record.get(f.pos()), path.isEmpty() ? f.name() : path + "." + f.name(), seen, where);
            }
        } else if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                count(list.get(i), path + "[" + i + "]", seen, where);
            }
        } else if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                count(e.getKey(), path + " key", seen, where);
                count(e.getValue(), path + "." + e.getKey(), seen, where);
            }
        }
    }

    private static int occurrences(byte[] haystack, byte[] needle) {
        int n = 0;
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (haystack[i] == needle[0] && haystack[i + 1] == needle[1] && haystack[i + 2] == needle[2]) {
                n++;
            }
        }
        return n;
    }
}
