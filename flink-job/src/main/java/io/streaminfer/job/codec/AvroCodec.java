package io.streaminfer.job.codec;

import io.streaminfer.schemas.RecordWire;
import io.streaminfer.schemas.UnreadableRecordException;
import java.io.Serializable;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro messages (Kafka values) of one generated record class, in the schemas module's {@link RecordWire}
 * format: written as Avro single-object encoding (a header with the writer schema's fingerprint, then
 * binary), read from that header's release of the schema, or as release 1's plain binary when the bytes have
 * no header. One instance per thread: it reuses its encoder and decoder.
 */
public final class AvroCodec<T extends SpecificRecord> implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Class<T> type;
    private transient RecordWire<T> wire;

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
        return wire().encode(record);
    }

    /**
     * Decodes one record, checking that the bytes hold exactly one record and nothing more.
     *
     * @throws InvalidRecordException naming what is wrong, for any malformed input
     */
    public T decode(byte[] bytes) throws InvalidRecordException {
        try {
            return wire().decode(bytes);
        } catch (UnreadableRecordException e) {
            throw new InvalidRecordException(e.getMessage(), e.getCause());
        }
    }

    private RecordWire<T> wire() {
        if (wire == null) {
            wire = new RecordWire<>(type);
        }
        return wire;
    }

    static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
