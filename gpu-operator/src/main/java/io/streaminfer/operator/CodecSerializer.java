package io.streaminfer.operator;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A serializer of one immutable element type in one {@link InferenceCodec} layout: it reads and writes that
 * layout. The serializers the job uses write {@link InferenceCodec#CURRENT_LAYOUT}; those of older layouts
 * exist only as restore serializers of old savepoints ({@link CodecSerializerSnapshot#restoreSerializer()}).
 * Stateless, so {@link #duplicate()} is the serializer itself; equal when of the same class and layout.
 */
abstract class CodecSerializer<T> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;
    private final int layout;

    CodecSerializer(int layout) {
        try {
            this.layout = InferenceCodec.checkLayout(layout, getClass().getSimpleName());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The codec layout this serializer reads and writes. */
    final int layout() {
        return layout;
    }

    abstract void write(T value, DataOutputView target, int layout) throws IOException;

    abstract T read(DataInputView source, int layout) throws IOException;

    @Override
    public final boolean isImmutableType() {
        return true;
    }

    @Override
    public final TypeSerializer<T> duplicate() {
        return this;
    }

    @Override
    public final T createInstance() {
        return null;
    }

    @Override
    public final T copy(T from) {
        return from;
    }

    @Override
    public final T copy(T from, T reuse) {
        return from;
    }

    @Override
    public final int getLength() {
        return -1;
    }

    @Override
    public final void serialize(T record, DataOutputView target) throws IOException {
        write(record, target, layout);
    }

    @Override
    public final T deserialize(DataInputView source) throws IOException {
        return read(source, layout);
    }

    @Override
    public final T deserialize(T reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public final void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public final boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && ((CodecSerializer<?>) o).layout == layout;
    }

    @Override
    public final int hashCode() {
        return 31 * getClass().hashCode() + layout;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(layout " + layout + ")";
    }
}
