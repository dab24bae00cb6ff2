package io.streaminfer.job.codec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
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
 * Plain Avro binary (no header, no schema registry) for one generated record class; writer and reader
 * schema are the class's own. One instance per thread: it reuses its encoder and decoder.
 */
public final class AvroCodec<T extends SpecificRecord> implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Class<T> type;
    private transient SpecificDatumWriter<T> writer;
    private transient SpecificDatumReader<T> reader;
    private transient BinaryEncoder encoder;
    private transient BinaryDecoder decoder;
    private transient ByteArrayOutputStream buffer;

    public AvroCodec(Class<T> type) {
        this.type = type;
    }

    public Class<T> type() {
        return type;
    }

    public Schema schema() {
        return SpecificData.get().getSchema(type);
    }

    public byte[] encode(T record) {
        if (writer == null) {
            writer = new SpecificDatumWriter<>(type);
            buffer = new ByteArrayOutputStream(256);
        }
        buffer.reset();
        encoder = EncoderFactory.get().binaryEncoder(buffer, encoder);
        try {
            writer.write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("could not encode " + type.getSimpleName(), e);
        }
        return buffer.toByteArray();
    }

    /**
     * Decodes one record, checking that the bytes hold exactly one record and nothing more.
     *
     * @throws InvalidRecordException naming what is wrong, for any malformed input
     */
    public T decode(byte[] bytes) throws InvalidRecordException {
        if (bytes == null || bytes.length == 0) {
            throw new InvalidRecordException("empty message: no " + type.getSimpleName() + " bytes");
        }
        if (reader == null) {
            reader = new SpecificDatumReader<>(type);
        }
        T record;
        try {
            // Avro allocates a string or array before reading it, so a garbage length could ask for
            // gigabytes. Skipping allocates nothing and fails at the first length that runs past the end.
            decoder = DecoderFactory.get().binaryDecoder(bytes, decoder);
            GenericDatumReader.skip(reader.getSchema(), decoder);
            if (!decoder.isEnd()) {
                throw new InvalidRecordException("not a valid Avro " + type.getSimpleName() + ": "
                        + bytes.length + " bytes hold trailing data after the record");
            }
            decoder = DecoderFactory.get().binaryDecoder(bytes, decoder);
            record = reader.read(null, decoder);
        } catch (InvalidRecordException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new InvalidRecordException("not a valid Avro " + type.getSimpleName() + " (" + bytes.length
                    + " bytes): " + describe(e), e);
        }
        return record;
    }

    static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
