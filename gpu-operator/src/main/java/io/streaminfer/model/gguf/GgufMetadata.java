package io.streaminfer.model.gguf;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The key-value metadata of a GGUF file, in file order, with typed accessors that name the key and what
 * was found when a value is missing or of another type. Values are Java objects of the value's type:
 * {@link Long} for every integer type (u64 values above 2^63 read negative), {@link Float}, {@link Double},
 * {@link Boolean}, {@link String}, or an {@link Array}.
 */
public final class GgufMetadata {

    /** GGUF's value types, in the order of their on-disk codes (0 = UINT8 ... 12 = FLOAT64). */
    public enum ValueType {
        UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64;

        boolean isInteger() {
            return this == UINT8 || this == INT8 || this == UINT16 || this == INT16 || this == UINT32 || this == INT32
                    || this == UINT64 || this == INT64;
        }
    }

    /**
     * An array value: its element type and its elements, held compactly: {@code long[]} for integers,
     * {@code float[]}, {@code double[]}, {@code boolean[]}, {@code List<String>}, or {@code List<Array>} for
     * arrays of arrays.
     */
    public record Array(ValueType elementType, Object values, int size) {}

    private final Map<String, Object> values;
    private final Map<String, ValueType> types;

    GgufMetadata(Map<String, Object> values, Map<String, ValueType> types) {
        this.values = Collections.unmodifiableMap(values);
        this.types = Collections.unmodifiableMap(types);
    }

    /** Every key, in file order. */
    public Set<String> keys() {
        return values.keySet();
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    /** The value's type, or null when absent. */
    public ValueType type(String key) {
        return types.get(key);
    }

    /** The raw value (see the class comment), or null when absent. */
    public Object value(String key) {
        return values.get(key);
    }

    public Optional<String> optionalString(String key) {
        return optional(key, String.class, "a string");
    }

    public String string(String key) {
        return optionalString(key).orElseThrow(() -> missing(key));
    }

    /** An integer of any integer type. */
    public OptionalLong optionalInteger(String key) {
        Optional<Long> v = optional(key, Long.class, "an integer");
        return v.isPresent() ? OptionalLong.of(v.get()) : OptionalLong.empty();
    }

    public long integer(String key) {
        return optionalInteger(key).orElseThrow(() -> missing(key));
    }

    /** A positive integer that fits an int (a model dimension). */
    public int dimension(String key) {
        long v = integer(key);
        if (v <= 0 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("metadata " + key + " = " + v + " is not a positive int");
        }
        return (int) v;
    }

    /** A float32 or float64 value, or {@code fallback} when absent. */
    public double real(String key, double fallback) {
        Object v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Float f) {
            return f;
        }
        if (v instanceof Double d) {
            return d;
        }
        throw wrongType(key, "a float");
    }

    public boolean bool(String key, boolean fallback) {
        return optional(key, Boolean.class, "a bool").orElse(fallback);
    }

    /** The value of {@code key} if there is one, which must be a {@code type} (else: "... is not {@code what}"). */
    private <T> Optional<T> optional(String key, Class<T> type, String what) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!type.isInstance(v)) {
            throw wrongType(key, what);
        }
        return Optional.of(type.cast(v));
    }

    /** An array of strings. */
    @SuppressWarnings("unchecked")
    public List<String> strings(String key) {
        return (List<String>) array(key, ValueType.STRING).values();
    }

    /** An array of float32. */
    public float[] floats(String key) {
        return (float[]) array(key, ValueType.FLOAT32).values();
    }

    /** An array of any integer type, as ints (each must fit). */
    public int[] ints(String key) {
        Array a = array(key, null);
        if (!a.elementType().isInteger()) {
            throw wrongType(key, "an array of integers");
        }
        long[] longs = (long[]) a.values();
        int[] out = new int[longs.length];
        for (int i = 0; i < longs.length; i++) {
            if (longs[i] != (int) longs[i]) {
                throw new IllegalArgumentException("metadata " + key + "[" + i + "] = " + longs[i] + " does not fit an int");
            }
            out[i] = (int) longs[i];
        }
        return out;
    }

    /** An array value; {@code elementType} null accepts any. */
    public Array array(String key, ValueType elementType) {
        Object v = values.get(key);
        if (v == null) {
            throw missing(key);
        }
        if (!(v instanceof Array a) || (elementType != null && a.elementType() != elementType)) {
            throw wrongType(key, "an array of " + (elementType == null ? "values" : elementType));
        }
        return a;
    }

    private IllegalArgumentException missing(String key) {
        return new IllegalArgumentException("metadata " + key + " is missing");
    }

    private IllegalArgumentException wrongType(String key, String expected) {
        Object v = values.get(key);
        String found = v instanceof Array a ? "an array of " + a.elementType() : types.get(key) + " " + v;
        return new IllegalArgumentException("metadata " + key + " should be " + expected + ", found " + found);
    }

    @Override
    public String toString() {
        return "GgufMetadata" + keys();
    }
}
