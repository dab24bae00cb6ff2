package io.streaminfer.model.gguf;

import io.streaminfer.model.gguf.GgufMetadata.Array;
import io.streaminfer.model.gguf.GgufMetadata.ValueType;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of a GGUF file (versions 2 and 3), read from a read-only mapping: magic "GGUF", u32 version,
 * u64 tensor count, u64 metadata count; metadata as (string key, u32 value type, value); then one entry per
 * tensor (string name, u32 n_dims, u64 dims with ne[0] fastest, u32 ggml type, u64 offset from the data
 * start); then the tensor data, which starts at the next multiple of {@code general.alignment} (default 32).
 * Strings are a u64 byte length and UTF-8 bytes. Nothing of the tensor data is read here.
 *
 * @param tensors tensor entries in file order
 * @param dataStart absolute offset of the data section
 */
public record GgufFile(Path path, int version, GgufMetadata metadata, List<TensorInfo> tensors, int alignment,
                       long dataStart, long fileSize) {
    /** "GGUF" read as a little-endian u32. */
    static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";

    /**
     * One tensor's entry.
     *
     * @param dims ne[0] (the fastest, a row's length) first
     * @param type ggml's type code (0 F32, 1 F16, 2 Q4_0, 8 Q8_0, 12 Q4_K, 14 Q6_K, 30 BF16, ...)
     * @param offset byte offset from the start of the data section
     */
    public record TensorInfo(String name, long[] dims, int type, long offset) {
        public long elements() {
            long n = 1;
            for (long d : dims) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        @Override
        public String toString() {
            return name + Arrays.toString(dims) + " type " + type;
        }
    }

    /** Copies {@code tensors}. */
    public GgufFile {
        tensors = List.copyOf(tensors);
    }

    /**
     * Reads the header, metadata and tensor entries of {@code path}.
     *
     * @throws IOException naming the file and where it ends early or what is malformed
     */
    public static GgufFile read(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            ByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, 0, Math.min(size, Integer.MAX_VALUE))
                    .order(ByteOrder.LITTLE_ENDIAN);
            Cursor in = new Cursor(path, map);
            try {
                return parse(path, in, size);
            } catch (BufferUnderflowException e) {
                throw in.truncated();
            }
        }
    }

    private static GgufFile parse(Path path, Cursor in, long size) throws IOException {
        in.what = "its header";
        int magic = in.buffer.remaining() >= 4 ? in.buffer.getInt() : 0;
        if (magic != MAGIC) {
            throw new IOException(path + " is not a GGUF file (no \"GGUF\" magic)");
        }
        int version = in.u32AsInt("version");
        if (version != 2 && version != 3) {
            throw new IOException(path + " is a GGUF file of version " + version + "; versions 2 and 3 are read");
        }
        long tensorCount = in.count("tensor count", 8);
        long metadataCount = in.count("metadata count", 8 + 4);
        Map<String, Object> values = new LinkedHashMap<>();
        Map<String, ValueType> types = new LinkedHashMap<>();
        for (long i = 0; i < metadataCount; i++) {
            in.what = "metadata entry " + i + " of " + metadataCount;
            String key = in.string();
            in.what = "metadata " + key;
            ValueType type = in.valueType();
            values.put(key, in.value(type));
            types.put(key, type);
        }
        GgufMetadata metadata = new GgufMetadata(values, types);
        int alignment = alignment(path, metadata);
        List<TensorInfo> tensors = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            in.what = "tensor entry " + i + " of " + tensorCount;
            String name = in.string();
            in.what = "the entry of tensor " + name;
            int dimCount = in.u32AsInt("n_dims");
            if (dimCount < 1 || dimCount > 4) {
                throw new IOException(path + ": tensor " + name + " has " + dimCount + " dimensions (1 to 4 are valid)");
            }
            long[] dims = new long[dimCount];
            for (int d = 0; d < dimCount; d++) {
                dims[d] = in.buffer.getLong();
                if (dims[d] <= 0) {
                    throw new IOException(path + ": tensor " + name + " has dimension " + d + " of " + dims[d]);
                }
            }
            int type = in.u32AsInt("type");
            long offset = in.buffer.getLong();
            if (offset < 0 || offset % alignment != 0) {
                throw new IOException(path + ": tensor " + name + " lies at offset " + offset
                        + ", not a multiple of the alignment " + alignment);
            }
            tensors.add(new TensorInfo(name, dims, type, offset));
        }
        long dataStart = (in.buffer.position() + alignment - 1L) / alignment * alignment;
        if (tensors.isEmpty()) {
            dataStart = Math.min(dataStart, size); // a vocabulary-only file need not pad to an empty data section
        }
        if (dataStart > size) {
            throw new IOException(path + " is a GGUF file but ends before its data section");
        }
        return new GgufFile(path, version, metadata, tensors, alignment, dataStart, size);
    }

    private static int alignment(Path path, GgufMetadata metadata) throws IOException {
        if (!metadata.has(ALIGNMENT_KEY)) {
            return DEFAULT_ALIGNMENT;
        }
        long a;
        try {
            a = metadata.integer(ALIGNMENT_KEY);
        } catch (IllegalArgumentException e) {
            throw new IOException(path + ": " + e.getMessage(), e);
        }
        if (a <= 0 || a > (1 << 30) || Long.bitCount(a) != 1) {
            throw new IOException(path + ": " + ALIGNMENT_KEY + " = " + a + " is not a power of two");
        }
        return (int) a;
    }

    /** Reads little-endian values, naming what it was reading when the file ends. */
    private static final class Cursor {
        private final Path path;
        private final ByteBuffer buffer;
        private String what = "its header";

        Cursor(Path path, ByteBuffer buffer) {
            this.path = path;
            this.buffer = buffer;
        }

        private IOException truncated() {
            return new IOException(path + " is a GGUF file but ends inside " + what + " (at byte "
                    + buffer.position() + " of " + buffer.limit() + ")");
        }

        int u32AsInt(String field) throws IOException {
            long v = u32();
            if (v > Integer.MAX_VALUE) {
                throw new IOException(path + ": " + field + " " + v + " in " + what + " is out of range");
            }
            return (int) v;
        }

        long u32() throws IOException {
            try {
                return buffer.getInt() & 0xFFFFFFFFL;
            } catch (BufferUnderflowException e) {
                throw truncated();
            }
        }

        /** A u64 count of items of at least {@code minBytes} each, checked against what is left. */
        long count(String field, int minBytes) throws IOException {
            long n;
            try {
                n = buffer.getLong();
            } catch (BufferUnderflowException e) {
                throw truncated();
            }
            if (n < 0 || n > buffer.remaining() / Math.max(minBytes, 1)) {
                throw new IOException(path + " is a GGUF file but ends inside " + what + ": its " + field + " "
                        + Long.toUnsignedString(n) + " cannot fit in the " + buffer.remaining() + " bytes left");
            }
            return n;
        }

        String string() throws IOException {
            long length = count("string length", 1);
            byte[] bytes = new byte[(int) length];
            buffer.get(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        }

        ValueType valueType() throws IOException {
            long code = u32();
            ValueType[] all = ValueType.values();
            if (code >= all.length) {
                throw new IOException(path + ": " + what + " has value type " + code + ", which GGUF does not define");
            }
            return all[(int) code];
        }

        Object value(ValueType type) throws IOException {
            try {
                return switch (type) {
                    case UINT8 -> (long) (buffer.get() & 0xFF);
                    case INT8 -> (long) buffer.get();
                    case UINT16 -> (long) (buffer.getShort() & 0xFFFF);
                    case INT16 -> (long) buffer.getShort();
                    case UINT32 -> buffer.getInt() & 0xFFFFFFFFL;
                    case INT32 -> (long) buffer.getInt();
                    case UINT64, INT64 -> buffer.getLong();
                    case FLOAT32 -> buffer.getFloat();
                    case FLOAT64 -> buffer.getDouble();
                    case BOOL -> buffer.get() != 0;
                    case STRING -> string();
                    case ARRAY -> array();
                };
            } catch (BufferUnderflowException e) {
                throw truncated();
            }
        }

        private Array array() throws IOException {
            ValueType element = valueType();
            int n = (int) count("array length", switch (element) {
                case UINT8, INT8, BOOL -> 1;
                case UINT16, INT16 -> 2;
                case UINT32, INT32, FLOAT32 -> 4;
                case UINT64, INT64, FLOAT64, STRING -> 8;
                case ARRAY -> 12;
            });
            switch (element) {
                case FLOAT32 -> {
                    float[] f = new float[n];
                    buffer.asFloatBuffer().get(f);
                    buffer.position(buffer.position() + 4 * n);
                    return new Array(element, f, n);
                }
                case FLOAT64 -> {
                    double[] d = new double[n];
                    for (int i = 0; i < n; i++) {
                        d[i] = buffer.getDouble();
                    }
                    return new Array(element, d, n);
                }
                case BOOL -> {
                    boolean[] b = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        b[i] = buffer.get() != 0;
                    }
                    return new Array(element, b, n);
                }
                case STRING, ARRAY -> {
                    List<Object> items = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        items.add(value(element));
                    }
                    return new Array(element, List.copyOf(items), n);
                }
                default -> {
                    long[] l = new long[n];
                    for (int i = 0; i < n; i++) {
                        l[i] = (Long) value(element);
                    }
                    return new Array(element, l, n);
                }
            }
        }
    }
}
