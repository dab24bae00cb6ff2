package io.streaminfer.schemas;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * One record per message (a Kafka value), as Avro's single-object encoding writes it: the two bytes
 * {@code C3 01}, the writer schema's 8-byte little-endian {@linkplain SchemaReleases#fingerprint fingerprint},
 * then the record in Avro binary. Decoding finds the writer's schema among the {@link SchemaReleases} by that
 * fingerprint and resolves it against the generated class's schema, so records written by any release (and by
 * Avro's own {@code BinaryMessageEncoder}) read here, with defaults for fields their writer did not know.
 *
 * <p>Release 1 wrote plain Avro binary without a header; bytes that do not start with the header are read as
 * that. The two cannot be confused: each record's first field is its id, a string (whose length would have to
 * be -98 for plain binary to start with {@code C3 01}) or a [null, string] union (whose branch index would have
 * to be -98).
 *
 * <p>Not thread-safe: one per thread (it reuses its encoder, decoder and readers).
 */
public final class RecordWire<T extends SpecificRecord> {
    static final byte MAGIC_0 = (byte) 0xC3;
    static final byte MAGIC_1 = (byte) 0x01;
    static final int HEADER_LENGTH = 10;

    private final Class<T> type;
    private final String name;
    private final SchemaReleases releases;
    private final Schema readerSchema;
    private final byte[] header = new byte[HEADER_LENGTH];
    private final Map<Integer, SpecificDatumReader<T>> readers = new HashMap<>(); // by release
    private SpecificDatumWriter<T> writer;
    private BinaryEncoder encoder;
    private BinaryDecoder decoder;
    private ByteArrayOutputStream buffer;

    public RecordWire(Class<T> type) {
        this.type = type;
        this.readerSchema = SpecificData.get().getSchema(type);
        this.name = readerSchema.getName();
        this.releases = SchemaReleases.of(type);
        if (SchemaReleases.fingerprint(releases.latest()) != SchemaReleases.fingerprint(readerSchema)) {
            throw new IllegalStateException("the " + name + " class's schema is not its newest release: add it as "
                    + "releases/" + name + ".v" + (releases.all().size() + 1) + ".avsc");
        }
        long fingerprint = SchemaReleases.fingerprint(readerSchema);
        header[0] = MAGIC_0;
        header[1] = MAGIC_1;
        for (int i = 0; i < 8; i++) {
            header[2 + i] = (byte) (fingerprint >>> (8 * i));
        }
    }

    public SchemaReleases releases() {
        return releases;
    }

    /** The record with this release's header. */
    public byte[] encode(T record) {
        if (writer == null) {
            writer = new SpecificDatumWriter<>(type);
            buffer = new ByteArrayOutputStream(256);
        }
        buffer.reset();
        buffer.write(header, 0, HEADER_LENGTH);
        encoder = EncoderFactory.get().binaryEncoder(buffer, encoder);
        try {
            writer.write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("could not encode " + name, e);
        }
        return buffer.toByteArray();
    }

    /**
     * One record, checking that the bytes hold exactly one record of a known release and nothing more.
     *
     * @throws UnreadableRecordException naming what is wrong, for any malformed input
     */
    public T decode(byte[] bytes) throws UnreadableRecordException {
        if (bytes == null || bytes.length == 0) {
            throw new UnreadableRecordException("empty message: no " + name + " bytes");
        }
        int release;
        int start;
        if (bytes.length >= 2 && bytes[0] == MAGIC_0 && bytes[1] == MAGIC_1) {
            if (bytes.length < HEADER_LENGTH) {
                throw new UnreadableRecordException("not a valid Avro " + name + ": " + bytes.length
                        + " bytes end inside the single-object header (C3 01 and an 8-byte schema fingerprint)");
            }
            long fingerprint = fingerprintIn(bytes);
            release = releases.releaseOf(fingerprint).orElseThrow(() -> unknown(fingerprint));
            start = HEADER_LENGTH;
        } else {
            release = 1;
            start = 0;
        }
        Schema writerSchema = releases.release(release);
        try {
            // Avro allocates a string or array before reading it, so a garbage length could ask for
            // gigabytes. Skipping allocates nothing and fails at the first length that runs past the end.
            decoder = DecoderFactory.get().binaryDecoder(bytes, start, bytes.length - start, decoder);
            GenericDatumReader.skip(writerSchema, decoder);
            if (!decoder.isEnd()) {
                throw new UnreadableRecordException("not a valid Avro " + name + where(release, start) + ": "
                        + bytes.length + " bytes hold trailing data after the record");
            }
            decoder = DecoderFactory.get().binaryDecoder(bytes, start, bytes.length - start, decoder);
            return readers.computeIfAbsent(release, r -> new SpecificDatumReader<>(writerSchema, readerSchema))
                    .read(null, decoder);
        } catch (UnreadableRecordException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new UnreadableRecordException("not a valid Avro " + name + where(release, start) + " ("
                    + bytes.length + " bytes): " + describe(e), e);
        }
    }

    private static long fingerprintIn(byte[] bytes) {
        long fingerprint = 0;
        for (int i = 7; i >= 0; i--) {
            fingerprint = (fingerprint << 8) | (bytes[2 + i] & 0xFF);
        }
        return fingerprint;
    }

    private static String where(int release, int start) {
        return start == 0 ? " (read as release 1's plain binary: the message has no single-object header)"
                : " of release " + release;
    }

    private UnreadableRecordException unknown(long fingerprint) {
        String known = IntStream.rangeClosed(1, releases.all().size())
                .mapToObj(r -> "release " + r + ": " + hex(SchemaReleases.fingerprint(releases.release(r))))
                .collect(Collectors.joining(", "));
        return new UnreadableRecordException("the message was written with a " + name + " schema this job does not"
                + " know (fingerprint " + hex(fingerprint) + "; known " + known + "): a producer newer than the job,"
                + " or a record of another type");
    }

    private static String hex(long fingerprint) {
        return String.format(Locale.ROOT, "%016x", fingerprint);
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
