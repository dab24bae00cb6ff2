package io.streaminfer.model.gguf;

import io.streaminfer.model.gguf.GgufMetadata.ValueType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Writes small GGUF files for tests: typed metadata (arrays included), tensors of raw bytes, any alignment. */
final class GgufWriter {
    private record Entry(String key, ValueType type, ValueType elementType, Object value) {}

    private record Tensor(String name, long[] ne, int type, byte[] data) {}

    private final List<Entry> metadata = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;
    private int version = 3;

    /** Sets a key (replacing an earlier value of it, in place). */
    GgufWriter put(String key, ValueType type, Object value) {
        add(new Entry(key, type, null, value));
        if (key.equals(GgufFile.ALIGNMENT_KEY)) {
            alignment = ((Number) value).intValue();
        }
        return this;
    }

    GgufWriter string(String key, String value) {
        return put(key, ValueType.STRING, value);
    }

    GgufWriter u32(String key, long value) {
        return put(key, ValueType.UINT32, value);
    }

    GgufWriter f32(String key, float value) {
        return put(key, ValueType.FLOAT32, value);
    }

    /** An array; {@code values} is a List of element values (Lists again for arrays of arrays). */
    GgufWriter array(String key, ValueType elementType, List<?> values) {
        add(new Entry(key, ValueType.ARRAY, elementType, values));
        return this;
    }

    private void add(Entry entry) {
        for (int i = 0; i < metadata.size(); i++) {
            if (metadata.get(i).key().equals(entry.key())) {
                metadata.set(i, entry);
                return;
            }
        }
        metadata.add(entry);
    }

    GgufWriter version(int v) {
        version = v;
        return this;
    }

    GgufWriter tensor(String name, int ggmlType, byte[] data, long... ne) {
        tensors.add(new Tensor(name, ne, ggmlType, data));
        return this;
    }

    /** An F32 tensor of shape ne. */
    GgufWriter f32Tensor(String name, float[] values, long... ne) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return tensor(name, 0, b.array(), ne);
    }

    byte[] bytes() {
        Out out = new Out();
        out.i32(GgufFile.MAGIC);
        out.i32(version);
        out.i64(tensors.size());
        out.i64(metadata.size());
        for (Entry e : metadata) {
            out.string(e.key());
            out.i32(e.type().ordinal());
            if (e.type() == ValueType.ARRAY) {
                out.array(e.elementType(), (List<?>) e.value());
            } else {
                out.value(e.type(), e.value());
            }
        }
        long offset = 0;
        List<Long> offsets = new ArrayList<>();
        for (Tensor t : tensors) {
            offsets.add(offset);
            offset = align(offset + t.data().length);
        }
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            out.string(t.name());
            out.i32(t.ne().length);
            for (long n : t.ne()) {
                out.i64(n);
            }
            out.i32(t.type());
            out.i64(offsets.get(i));
        }
        out.pad(align(out.size()));
        long start = out.size();
        for (int i = 0; i < tensors.size(); i++) {
            out.pad(start + offsets.get(i));
            out.write(tensors.get(i).data(), 0, tensors.get(i).data().length);
        }
        return out.toByteArray();
    }

    Path write(Path path) throws IOException {
        return Files.write(path, bytes());
    }

    private long align(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    private static final class Out extends ByteArrayOutputStream {
        void i32(int v) {
            byte[] b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
            write(b, 0, 4);
        }

        void i64(long v) {
            byte[] b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
            write(b, 0, 8);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            write(b, 0, b.length);
        }

        void pad(long to) {
            while (size() < to) {
                write(0);
            }
        }

        void array(ValueType element, List<?> values) {
            i32(element.ordinal());
            i64(values.size());
            for (Object v : values) {
                if (element == ValueType.ARRAY) {
                    List<?> inner = (List<?>) v;
                    array((ValueType) inner.get(0), inner.subList(1, inner.size()));
                } else {
                    value(element, v);
                }
            }
        }

        void value(ValueType type, Object v) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            switch (type) {
                case UINT8, INT8 -> b.put(((Number) v).byteValue());
                case UINT16, INT16 -> b.putShort(((Number) v).shortValue());
                case UINT32, INT32 -> b.putInt(((Number) v).intValue());
                case UINT64, INT64 -> b.putLong(((Number) v).longValue());
                case FLOAT32 -> b.putFloat(((Number) v).floatValue());
                case FLOAT64 -> b.putDouble(((Number) v).doubleValue());
                case BOOL -> b.put((byte) ((Boolean) v ? 1 : 0));
                case STRING -> {
                    string((String) v);
                    return;
                }
                case ARRAY -> throw new IllegalArgumentException("use array()");
            }
            write(b.array(), 0, b.position());
        }
    }
}
