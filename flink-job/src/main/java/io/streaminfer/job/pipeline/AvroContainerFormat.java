package io.streaminfer.job.pipeline;

import java.io.IOException;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;

/**
 * Reads an Avro container file record by record (flink-avro has no DataStream reader for them). Not
 * splittable: a container file is read whole by one reader, which its sync markers would allow but offline
 * datasets do not need.
 */
public final class AvroContainerFormat<T extends org.apache.avro.specific.SpecificRecordBase> extends SimpleStreamFormat<T> {
    private static final long serialVersionUID = 1L;
    private final Class<T> type;

    public AvroContainerFormat(Class<T> type) {
        this.type = type;
    }

    @Override
    public StreamFormat.Reader<T> createReader(Configuration config, FSDataInputStream stream) throws IOException {
        DataFileStream<T> records = new DataFileStream<>(stream, new SpecificDatumReader<>(type));
        return new StreamFormat.Reader<>() {
            @Override
            public T read() {
                return records.hasNext() ? records.next() : null;
            }

            @Override
            public void close() throws IOException {
                records.close();
            }
        };
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return new AvroTypeInfo<>(type);
    }
}
