package io.streaminfer.operator;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * Flink type information for the operator's element types, backed by {@link InferenceCodec}, so the
 * job never falls back to Kryo. Use them with {@code returns(...)} / {@code transform(...)}.
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
    public static final class InputSerializer extends TypeSerializerSingleton<InferenceInput> {
        private static final long serialVersionUID = 1L;
        public static final InputSerializer INSTANCE = new InputSerializer();

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public InferenceInput createInstance() {
            return null;
        }

        @Override
        public InferenceInput copy(InferenceInput from) {
            return from;
        }

        @Override
        public InferenceInput copy(InferenceInput from, InferenceInput reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(InferenceInput record, DataOutputView target) throws IOException {
            InferenceCodec.writeInput(target, record);
        }

        @Override
        public InferenceInput deserialize(DataInputView source) throws IOException {
            return InferenceCodec.readInput(source);
        }

        @Override
        public InferenceInput deserialize(InferenceInput reuse, DataInputView source) throws IOException {
            return deserialize(source);
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            serialize(deserialize(source), target);
        }

        @Override
        public TypeSerializerSnapshot<InferenceInput> snapshotConfiguration() {
            return new InputSerializerSnapshot();
        }
    }

    /** Snapshot of {@link InputSerializer}; bump its version when {@link InferenceCodec}'s layout changes. */
    public static final class InputSerializerSnapshot extends SimpleTypeSerializerSnapshot<InferenceInput> {
        public InputSerializerSnapshot() {
            super(() -> InputSerializer.INSTANCE);
        }
    }

    /** Serializer of {@link InferenceOutput}. */
    public static final class OutputSerializer extends TypeSerializerSingleton<InferenceOutput> {
        private static final long serialVersionUID = 1L;
        public static final OutputSerializer INSTANCE = new OutputSerializer();

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public InferenceOutput createInstance() {
            return null;
        }

        @Override
        public InferenceOutput copy(InferenceOutput from) {
            return from;
        }

        @Override
        public InferenceOutput copy(InferenceOutput from, InferenceOutput reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(InferenceOutput record, DataOutputView target) throws IOException {
            InferenceCodec.writeOutput(target, record);
        }

        @Override
        public InferenceOutput deserialize(DataInputView source) throws IOException {
            return InferenceCodec.readOutput(source);
        }

        @Override
        public InferenceOutput deserialize(InferenceOutput reuse, DataInputView source) throws IOException {
            return deserialize(source);
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            serialize(deserialize(source), target);
        }

        @Override
        public TypeSerializerSnapshot<InferenceOutput> snapshotConfiguration() {
            return new OutputSerializerSnapshot();
        }
    }

    /** Snapshot of {@link OutputSerializer}. */
    public static final class OutputSerializerSnapshot extends SimpleTypeSerializerSnapshot<InferenceOutput> {
        public OutputSerializerSnapshot() {
            super(() -> OutputSerializer.INSTANCE);
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
