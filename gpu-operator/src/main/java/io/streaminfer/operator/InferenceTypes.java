package io.streaminfer.operator;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * Flink type information for the operator's element types, backed by {@link InferenceCodec}, so the
 * job never falls back to Kryo. Use them with {@code returns(...)} / {@code transform(...)}. The serializers
 * write the codec's current layout; their snapshots record it, so state of an older layout restores as
 * compatible after migration (see {@link CodecSerializerSnapshot}).
 */
public final class InferenceTypes {

    private InferenceTypes() {
    }

    public static TypeInformation<InferenceInput> input() {
        return new CodecTypeInfo<>(InferenceInput.class, InputSerializer.INSTANCE);
    }

    public static TypeInformation<InferenceOutput> output() {
        return new CodecTypeInfo<>(InferenceOutput.class, OutputSerializer.INSTANCE);
    }

    /** Serializer of {@link InferenceInput}; the elements are immutable, so copies are the element itself. */
    public static final class InputSerializer extends CodecSerializer<InferenceInput> {
        private static final long serialVersionUID = 2L;
        /** The serializer of the current layout. */
        public static final InputSerializer INSTANCE = new InputSerializer(InferenceCodec.CURRENT_LAYOUT);

        private InputSerializer(int layout) {
            super(layout);
        }

        static InputSerializer forLayout(int layout) {
            return layout == InferenceCodec.CURRENT_LAYOUT ? INSTANCE : new InputSerializer(layout);
        }

        @Override
        void write(InferenceInput value, DataOutputView target, int layout) throws IOException {
            InferenceCodec.writeInput(target, value, layout);
        }

        @Override
        InferenceInput read(DataInputView source, int layout) throws IOException {
            return InferenceCodec.readInput(source, layout);
        }

        @Override
        public TypeSerializerSnapshot<InferenceInput> snapshotConfiguration() {
            return new InputSerializerSnapshot(layout());
        }
    }

    /**
     * Snapshot of {@link InputSerializer}: its layout. Savepoints name this class; keep its name and its
     * public no-argument constructor (see {@link CodecSerializerSnapshot} for the versions it reads).
     */
    public static final class InputSerializerSnapshot extends CodecSerializerSnapshot<InferenceInput> {
        /** For Flink, which instantiates the class named in a savepoint and then reads the snapshot. */
        public InputSerializerSnapshot() {
            this(InferenceCodec.CURRENT_LAYOUT);
        }

        InputSerializerSnapshot(int layout) {
            super(layout);
        }

        @Override
        CodecSerializer<InferenceInput> serializerFor(int layout) {
            return InputSerializer.forLayout(layout);
        }
    }

    /** Serializer of {@link InferenceOutput}. */
    public static final class OutputSerializer extends CodecSerializer<InferenceOutput> {
        private static final long serialVersionUID = 2L;
        /** The serializer of the current layout. */
        public static final OutputSerializer INSTANCE = new OutputSerializer(InferenceCodec.CURRENT_LAYOUT);

        private OutputSerializer(int layout) {
            super(layout);
        }

        static OutputSerializer forLayout(int layout) {
            return layout == InferenceCodec.CURRENT_LAYOUT ? INSTANCE : new OutputSerializer(layout);
        }

        @Override
        void write(InferenceOutput value, DataOutputView target, int layout) throws IOException {
            InferenceCodec.writeOutput(target, value, layout);
        }

        @Override
        InferenceOutput read(DataInputView source, int layout) throws IOException {
            return InferenceCodec.readOutput(source, layout);
        }

        @Override
        public TypeSerializerSnapshot<InferenceOutput> snapshotConfiguration() {
            return new OutputSerializerSnapshot(layout());
        }
    }

    /** Snapshot of {@link OutputSerializer}; savepoints name this class, as {@link InputSerializerSnapshot}. */
    public static final class OutputSerializerSnapshot extends CodecSerializerSnapshot<InferenceOutput> {
        /** For Flink, which instantiates the class named in a savepoint and then reads the snapshot. */
        public OutputSerializerSnapshot() {
            this(InferenceCodec.CURRENT_LAYOUT);
        }

        OutputSerializerSnapshot(int layout) {
            super(layout);
        }

        @Override
        CodecSerializer<InferenceOutput> serializerFor(int layout) {
            return OutputSerializer.forLayout(layout);
        }
    }

    /** Type information for a class with one fixed serializer; not a key type, no fields for Flink. */
    private static final class CodecTypeInfo<T> extends TypeInformation<T> {
        private static final long serialVersionUID = 1L;
        private final Class<T> type;
        private final TypeSerializer<T> serializer;

        CodecTypeInfo(Class<T> type, TypeSerializer<T> serializer) {
            this.type = type;
            this.serializer = serializer;
        }

        @Override
        public boolean isBasicType() {
            return false;
        }

        @Override
        public boolean isTupleType() {
            return false;
        }

        @Override
        public int getArity() {
            return 1;
        }

        @Override
        public int getTotalFields() {
            return 1;
        }

        @Override
        public Class<T> getTypeClass() {
            return type;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<T> createSerializer(SerializerConfig config) {
            return serializer;
        }

        @Override
        public String toString() {
            return "CodecTypeInfo<" + type.getSimpleName() + ">";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CodecTypeInfo<?> other && other.type == type;
        }

        @Override
        public int hashCode() {
            return type.hashCode();
        }

        @Override
        public boolean canEqual(Object o) {
            return o instanceof CodecTypeInfo;
        }
    }
}
