package io.streaminfer.deploy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * The Kafka value formats of the job's releases, for one record type. Release 1 (0.1.0) wrote and read
 * headerless Avro binary of its schemas; later releases write Avro single-object encoding (C3 01, the writer
 * schema's 8-byte fingerprint, then binary) and read both, headerless bytes as release 1's. The released
 * schemas are {@code <Name>.v<N>.avsc} in the releases directory (the job's
 * {@code schemas/src/main/resources/io/streaminfer/schemas/releases}).
 */
final class AvroWire {
    private final Schema current;
    private final List<Schema> releases;
    private final BinaryMessageDecoder<GenericRecord> singleObject;

    /** Reads into {@code current}; {@code releases} (oldest first) may be empty when no older bytes are expected. */
    AvroWire(Schema current, List<Schema> releases) {
        this.current = current;
        this.releases = List.copyOf(releases);
        this.singleObject = new BinaryMessageDecoder<>(GenericData.get(), current);
        releases.forEach(singleObject::addSchema);
    }

    /** The released schemas of record {@code name} in {@code dir}, oldest first (none when dir is null). */
    static List<Schema> releases(Path dir, String name) throws IOException {
        List<Schema> out = new ArrayList<>();
        for (int version = 1; dir != null; version++) {
            Path file = dir.resolve(name + ".v" + version + ".avsc");
            if (!Files.isRegularFile(file)) {
                break;
            }
            out.add(new Schema.Parser().parse(file.toFile()));
        }
        return out;
    }

    /** Release {@code version}'s schema (1 = the oldest). */
    Schema release(int version) {
        if (version < 1 || version > releases.size()) {
            throw new IllegalArgumentException("no release " + version + " of " + current.getName()
                    + " (the releases directory has " + releases.size() + ")");
        }
        return releases.get(version - 1);
    }

    /** A record of {@code schema} as a release writes it: release 1 headerless, later ones single-object. */
    static byte[] encode(GenericRecord r, Schema schema, boolean headerless) throws IOException {
        if (!headerless) {
            return new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(r).array();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(r, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    /** A value of any release, read as {@code current}. */
    GenericRecord decode(byte[] value) throws IOException {
        if (value.length >= 2 && (value[0] & 0xff) == 0xC3 && value[1] == 0x01) {
            return singleObject.decode(value);
        }
        Schema writer = releases.isEmpty() ? current : releases.get(0);
        return new GenericDatumReader<GenericRecord>(writer, current)
                .read(null, DecoderFactory.get().binaryDecoder(value, null));
    }
}
