package io.streaminfer.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Every released version of one record's schema, oldest first: the resources
 * {@code io/streaminfer/schemas/releases/<Name>.v<N>.avsc}, N = 1, 2, ... A release that changes a record adds
 * its schema there (and never edits an older one), so that bytes written by any earlier release can be read:
 * {@link RecordWire} finds the writer's schema by the fingerprint each message carries. The newest release is
 * the generated class's schema (the same parsing canonical form; {@link RecordWire} checks it). Immutable.
 */
public final class SchemaReleases {
    private static final String FOLDER = "releases/";

    private final String name;
    private final List<Schema> releases;
    private final Map<Long, Integer> byFingerprint = new HashMap<>();

    private SchemaReleases(String name, List<Schema> releases) {
        this.name = name;
        this.releases = List.copyOf(releases);
        for (int i = 0; i < releases.size(); i++) {
            Integer clash = byFingerprint.put(fingerprint(releases.get(i)), i);
            if (clash != null) {
                throw new IllegalStateException(name + " releases " + (clash + 1) + " and " + (i + 1)
                        + " have the same schema: a release file is kept only when the schema changed");
            }
        }
    }

    /** The releases of a generated record class, read from the resources beside this class. */
    public static SchemaReleases of(Class<? extends SpecificRecord> type) {
        String name = SpecificData.get().getSchema(type).getName();
        List<Schema> releases = new ArrayList<>();
        for (int version = 1; ; version++) {
            try (InputStream in = SchemaReleases.class.getResourceAsStream(FOLDER + name + ".v" + version + ".avsc")) {
                if (in == null) {
                    break;
                }
                releases.add(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read release " + version + " of the " + name + " schema", e);
            }
        }
        if (releases.isEmpty()) {
            throw new IllegalStateException("no released schema of " + name + " under " + FOLDER);
        }
        return new SchemaReleases(name, releases);
    }

    /** The CRC-64-AVRO fingerprint of a schema's parsing canonical form, as Avro's single-object encoding has it. */
    public static long fingerprint(Schema schema) {
        return SchemaNormalization.parsingFingerprint64(schema);
    }

    public String recordName() {
        return name;
    }

    /** Release 1: what plain binary messages without a header were written with. */
    public Schema first() {
        return releases.get(0);
    }

    public Schema latest() {
        return releases.get(releases.size() - 1);
    }

    /** Every release, oldest first (index 0 is release 1). */
    public List<Schema> all() {
        return releases;
    }

    /** The release (1-based) whose schema has this fingerprint. */
    public Optional<Integer> releaseOf(long fingerprint) {
        Integer index = byFingerprint.get(fingerprint);
        return index == null ? Optional.empty() : Optional.of(index + 1);
    }

    /** The schema of a release (1-based). */
    public Schema release(int release) {
        return releases.get(release - 1);
    }
}
