package io.streaminfer.job.codec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Flat Avro records as plain JSON objects with the schema's field names ({@code {"id":"a1","max_tokens":64}}),
 * not Avro's own JSON encoding (which wraps unions). Driven by the schema, so a field added to an
 * {@code .avsc} needs no change here. Absent fields take the schema default. Unknown top-level fields
 * go into the record's {@code metadata} map as strings, when it has one (extra dataset columns such as
 * {@code label}); a name one letter off a known field, or equal to it but for case and {@code -}/{@code _}
 * ({@code max_token}, {@code topP}), is an error instead, so a typo is not silently ignored. A line holds
 * exactly one JSON value. Numbers are read exactly, so one that a float cannot hold is refused as written.
 * Timestamps are epoch millis, bytes are base64 strings. Thread-safe.
 */
public final class PlainJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    private static final String METADATA = "metadata";
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private PlainJson() {}

    /** Parses one JSON object, the only value of {@code json}, into a record of {@code type}. */
    public static <T extends SpecificRecord> T parse(String json, Class<T> type) throws InvalidRecordException {
        return fromJson(readValue(json), type);
    }

    /** The one JSON value of {@code json}: content after it is an error naming that content. */
    static JsonNode readValue(String json) throws InvalidRecordException {
        JsonNode node;
        int end;
        try (JsonParser parser = MAPPER.createParser(json)) {
            node = MAPPER.readTree(parser);
            if (node == null || node.isMissingNode()) {
                throw new InvalidRecordException("empty line: expected a JSON object");
            }
            end = (int) parser.currentLocation().getCharOffset();
            boolean more;
            try {
                more = parser.nextToken() != null;
            } catch (JsonProcessingException e) {
                more = true; // garbage that is not even a token
            }
            if (more) {
                throw new InvalidRecordException(JsonErrors.trailing(json, end));
            }
        } catch (JsonProcessingException e) {
            throw new InvalidRecordException(JsonErrors.describe(e));
        } catch (java.io.IOException e) {
            throw new InvalidRecordException("could not read the JSON: " + e.getMessage());
        }
        return node;
    }

    /** The textual {@code id} of a JSON object, or null when the text has none (or is not JSON). */
    public static String idOf(String json) {
        try {
            JsonNode id = MAPPER.readTree(json).get("id");
            return id != null && id.isTextual() ? id.textValue() : null;
        } catch (JsonProcessingException | RuntimeException e) {
            return null;
        }
    }

    /** Converts a parsed JSON object into a record of {@code type}. */
    @SuppressWarnings("unchecked")
    public static <T extends SpecificRecord> T fromJson(JsonNode node, Class<T> type) throws InvalidRecordException {
        Schema schema = SpecificData.get().getSchema(type);
        if (!node.isObject()) {
            throw new InvalidRecordException("expected a JSON object for " + type.getSimpleName() + ", got "
                    + kind(node));
        }
        return (T) record(node, schema, null);
    }

    /**
     * A record of {@code schema} from a JSON object; {@code path} names it in messages (null: the top level,
     * whose unknown fields go into its metadata map when it has one).
     */
    private static IndexedRecord record(JsonNode node, Schema schema, String path) throws InvalidRecordException {
        Schema.Field metadataField = path == null ? schema.getField(METADATA) : null;
        boolean extrasToMetadata = metadataField != null && metadataField.schema().getType() == Schema.Type.MAP;
        Map<String, String> extras = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            if (schema.getField(name) == null) {
                String near = FieldNames.nearMiss(name, schema);
                if (!extrasToMetadata || near != null) {
                    throw new InvalidRecordException("unknown field \"" + (path == null ? "" : path + ".") + name
                            + "\" in " + schema.getName() + (near != null ? ": did you mean \"" + near + "\"?" : ""));
                }
                extras.put(name, e.getValue().isTextual() ? e.getValue().textValue() : e.getValue().toString());
            }
        }
        IndexedRecord record = (IndexedRecord) SpecificData.get().newRecord(null, schema);
        for (Schema.Field field : schema.getFields()) {
            JsonNode value = node.get(field.name());
            String fieldPath = path == null ? field.name() : path + "." + field.name();
            Object converted;
            if (value == null) {
                if (!field.hasDefaultValue()) {
                    throw new InvalidRecordException("missing required field \"" + fieldPath + "\"");
                }
                converted = SpecificData.get().deepCopy(field.schema(), SpecificData.get().getDefaultValue(field));
            } else {
                converted = convert(value, field.schema(), fieldPath);
            }
            if (field == metadataField && !extras.isEmpty()) {
                converted = withExtras(converted, extras);
            }
            record.put(field.pos(), converted);
        }
        return record;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> withExtras(Object metadata, Map<String, String> extras)
            throws InvalidRecordException {
        Map<String, Object> merged = new LinkedHashMap<>((Map<String, Object>) metadata);
        for (Map.Entry<String, String> e : extras.entrySet()) {
            if (merged.containsKey(e.getKey())) {
                throw new InvalidRecordException("field \"" + e.getKey() + "\" is given both at the top level and in "
                        + METADATA);
            }
            merged.put(e.getKey(), e.getValue());
        }
        return merged;
    }

    /** One line of JSON, no trailing newline. */
    public static String toJsonLine(SpecificRecord record) {
        try {
            return MAPPER.writeValueAsString(toJson(record));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write JSON for " + record.getSchema().getName(), e);
        }
    }

    public static ObjectNode toJson(SpecificRecord record) {
        ObjectNode out = NODES.objectNode();
        for (Schema.Field field : record.getSchema().getFields()) {
            out.set(field.name(), write(record.get(field.pos()), field.schema()));
        }
        return out;
    }

    private static Object convert(JsonNode value, Schema schema, String path) throws InvalidRecordException {
        if (schema.getType() == Schema.Type.UNION) {
            if (value.isNull()) {
                if (schema.getTypes().stream().anyMatch(s -> s.getType() == Schema.Type.NULL)) {
                    return null;
                }
                throw new InvalidRecordException("field \"" + path + "\" must not be null");
            }
            List<Schema> branches = schema.getTypes().stream().filter(s -> s.getType() != Schema.Type.NULL).toList();
            if (branches.size() == 1) {
                return convert(value, branches.get(0), path); // most unions are [null, T]
            }
            for (Schema branch : branches) {
                if (matches(value, branch)) {
                    return convert(value, branch, path);
                }
            }
            throw mismatch(path, "one of " + branches.stream().map(b -> b.getType().getName()).toList(), value);
        }
        if (value.isNull() && schema.getType() != Schema.Type.NULL) {
            throw new InvalidRecordException("field \"" + path + "\" must not be null");
        }
        LogicalType logical = schema.getLogicalType();
        switch (schema.getType()) {
            case NULL:
                return expect(value.isNull(), () -> null, path, "null", value);
            case STRING:
                return expect(value.isTextual(), () -> value.textValue(), path, "a string", value);
            case BOOLEAN:
                return expect(value.isBoolean(), () -> value.booleanValue(), path, "true or false", value);
            case INT:
                return expect(value.isIntegralNumber() && value.canConvertToInt(), () -> value.intValue(), path,
                        "an integer (32-bit)", value);
            case LONG:
                if (value.isIntegralNumber() && value.canConvertToLong()) {
                    return logical instanceof LogicalTypes.TimestampMillis
                            ? Instant.ofEpochMilli(value.longValue()) : (Object) value.longValue();
                }
                throw mismatch(path, logical instanceof LogicalTypes.TimestampMillis
                        ? "epoch milliseconds (an integer)" : "an integer (64-bit)", value);
            case FLOAT: {
                float f = (float) expect(value.isNumber(), () -> value.floatValue(), path, "a number", value);
                checkRange(Float.isInfinite(f), f == 0, value, path, "32-bit float");
                return f;
            }
            case DOUBLE: {
                double d = (double) expect(value.isNumber(), () -> value.doubleValue(), path, "a number", value);
                checkRange(Double.isInfinite(d), d == 0, value, path, "64-bit float");
                return d;
            }
            case BYTES:
                if (value.isTextual()) {
                    try {
                        return ByteBuffer.wrap(Base64.getDecoder().decode(value.textValue()));
                    } catch (IllegalArgumentException e) {
                        throw mismatch(path, "base64 text", value);
                    }
                }
                throw mismatch(path, "base64 text", value);
            case ENUM:
                if (value.isTextual() && schema.hasEnumSymbol(value.textValue())) {
                    return SpecificData.get().createEnum(value.textValue(), schema);
                }
                throw mismatch(path, "one of " + schema.getEnumSymbols(), value);
            case ARRAY: {
                if (!value.isArray()) {
                    throw mismatch(path, "an array", value);
                }
                List<Object> items = new ArrayList<>(value.size());
                for (int i = 0; i < value.size(); i++) {
                    items.add(convert(value.get(i), schema.getElementType(), path + "[" + i + "]"));
                }
                return items;
            }
            case MAP: {
                if (!value.isObject()) {
                    throw mismatch(path, "an object", value);
                }
                Map<String, Object> entries = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    entries.put(e.getKey(), convert(e.getValue(), schema.getValueType(), path + "." + e.getKey()));
                }
                return entries;
            }
            case RECORD:
                if (!value.isObject()) {
                    throw mismatch(path, "an object", value);
                }
                return record(value, schema, path);
            default:
                throw new InvalidRecordException("field \"" + path + "\" has a schema type (" + schema.getType()
                        + ") that plain JSON does not support");
        }
    }

    private static JsonNode write(Object value, Schema schema) {
        if (value == null) {
            return NODES.nullNode();
        }
        if (schema.getType() == Schema.Type.UNION) {
            List<Schema> branches = schema.getTypes().stream().filter(s -> s.getType() != Schema.Type.NULL).toList();
            return write(value, branches.size() == 1 ? branches.get(0) // most unions are [null, T]
                    : schema.getTypes().get(SpecificData.get().resolveUnion(schema, value)));
        }
        switch (schema.getType()) {
            case STRING:
            case ENUM:
                return NODES.textNode(value.toString());
            case BOOLEAN:
                return NODES.booleanNode((Boolean) value);
            case INT:
                return NODES.numberNode((Integer) value);
            case LONG:
                return value instanceof Instant instant ? NODES.numberNode(instant.toEpochMilli())
                        : NODES.numberNode((Long) value);
            case FLOAT:
                return NODES.numberNode((Float) value);
            case DOUBLE:
                return NODES.numberNode((Double) value);
            case BYTES: {
                ByteBuffer buffer = ((ByteBuffer) value).duplicate();
                byte[] bytes = new byte[buffer.remaining()];
                buffer.get(bytes);
                return NODES.textNode(Base64.getEncoder().encodeToString(bytes));
            }
            case ARRAY: {
                ArrayNode array = NODES.arrayNode();
                for (Object item : (Iterable<?>) value) {
                    array.add(write(item, schema.getElementType()));
                }
                return array;
            }
            case MAP: {
                ObjectNode object = NODES.objectNode();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                    object.set(e.getKey().toString(), write(e.getValue(), schema.getValueType()));
                }
                return object;
            }
            case RECORD: {
                IndexedRecord record = (IndexedRecord) value;
                ObjectNode object = NODES.objectNode();
                for (Schema.Field field : schema.getFields()) {
                    object.set(field.name(), write(record.get(field.pos()), field.schema()));
                }
                return object;
            }
            default:
                throw new IllegalStateException("plain JSON does not support schema type " + schema.getType());
        }
    }

    /** Whether a JSON value has the kind of a union's branch (for unions of several types). */
    private static boolean matches(JsonNode value, Schema branch) {
        return switch (branch.getType()) {
            case STRING, ENUM, BYTES -> value.isTextual();
            case BOOLEAN -> value.isBoolean();
            case INT, LONG -> value.isIntegralNumber();
            case FLOAT, DOUBLE -> value.isNumber();
            case ARRAY -> value.isArray();
            case MAP, RECORD -> value.isObject();
            default -> false;
        };
    }

    /** What {@code read} gives when {@code matches}; else the mismatch of {@code value} and {@code expected}. */
    private static Object expect(boolean matches, Supplier<Object> read, String path, String expected, JsonNode value)
            throws InvalidRecordException {
        if (matches) {
            return read.get();
        }
        throw mismatch(path, expected, value);
    }

    /** A number that overflows the type, or is not zero but rounds to it, is refused as the writer wrote it. */
    private static void checkRange(boolean infinite, boolean zero, JsonNode value, String path, String type)
            throws InvalidRecordException {
        if (infinite || (zero && value.decimalValue().signum() != 0)) {
            String written = value.decimalValue().toString().replace("E+", "e").replace("E", "e");
            throw new InvalidRecordException("field \"" + path + "\" is " + written + ", too " + (infinite ? "large" : "small")
                    + " for a " + type);
        }
    }

    private static InvalidRecordException mismatch(String path, String expected, JsonNode got) {
        String shown = got.toString();
        if (shown.length() > 40) {
            shown = shown.substring(0, 37) + "...";
        }
        return new InvalidRecordException("field \"" + path + "\" must be " + expected + ", got " + kind(got) + " " + shown);
    }

    private static String kind(JsonNode node) {
        return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }
}
