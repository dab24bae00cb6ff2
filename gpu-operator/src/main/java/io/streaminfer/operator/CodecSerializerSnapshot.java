package io.streaminfer.operator;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * The snapshot of a {@link CodecSerializer}: which {@link InferenceCodec} layout it writes. Flink stores it in a
 * savepoint as the snapshot's class name, {@link #getCurrentVersion() version} and {@link #writeSnapshot
 * payload}, and on restore instantiates the class named there (so the subclasses' names and public no-argument
 * constructors must stay), calls {@link #readSnapshot}, reads the state with {@link #restoreSerializer()} and
 * asks the new serializer's snapshot to {@link #resolveSchemaCompatibility resolve} the old one.
 *
 * <p>Snapshot versions:
 * <ul>
 *   <li>{@value #SIMPLE_SNAPSHOT_VERSION}: written by Flink's {@code SimpleTypeSerializerSnapshot}, which these
 *       classes extended in the first release (Flink 2.2.1 writes its version 3 and no payload): layout 1.</li>
 *   <li>{@value #VERSION}: an int, the layout. A new codec layout needs no new snapshot version.</li>
 * </ul>
 */
abstract class CodecSerializerSnapshot<T> implements TypeSerializerSnapshot<T> {
    /** What {@code SimpleTypeSerializerSnapshot} (Flink 2.2.1) wrote for these classes: no payload, layout 1. */
    static final int SIMPLE_SNAPSHOT_VERSION = 3;
    /** The payload is the layout. */
    static final int VERSION = 4;

    private int layout;

    /** A snapshot of a serializer of {@code layout}; one Flink instantiates gets its layout in {@link #readSnapshot}. */
    CodecSerializerSnapshot(int layout) {
        this.layout = layout;
    }

    /** The serializer of {@code layout} for this snapshot's type. */
    abstract CodecSerializer<T> serializerFor(int layout);

    /** The layout of the serializer this snapshot was taken of. */
    final int layout() {
        return layout;
    }

    @Override
    public final int getCurrentVersion() {
        return VERSION;
    }

    @Override
    public final void writeSnapshot(DataOutputView out) throws IOException {
        out.writeInt(layout);
    }

    @Override
    public final void readSnapshot(int readVersion, DataInputView in, ClassLoader userCodeClassLoader)
            throws IOException {
        layout = switch (readVersion) {
            case SIMPLE_SNAPSHOT_VERSION -> InferenceCodec.LAYOUT_1;
            case VERSION -> InferenceCodec.checkLayout(in.readInt(), getClass().getName() + " in the savepoint");
            default -> throw new IOException(getClass().getName() + " in the savepoint has snapshot version "
                    + readVersion + "; this release reads versions " + SIMPLE_SNAPSHOT_VERSION + " and " + VERSION
                    + (readVersion > VERSION ? " (written by a newer release?)" : ""));
        };
    }

    @Override
    public final TypeSerializer<T> restoreSerializer() {
        return serializerFor(layout);
    }

    /**
     * Called on the snapshot of the new serializer with the snapshot of the one that wrote the state: the same
     * layout is compatible as is; an older one after migration (the restore serializer reads it, the new
     * serializer writes the state again); another type, or a layout this one does not write, is incompatible.
     */
    @Override
    public final TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> oldSnapshot) {
        if (oldSnapshot == null || oldSnapshot.getClass() != getClass()) {
            return TypeSerializerSchemaCompatibility.incompatible();
        }
        int oldLayout = ((CodecSerializerSnapshot<T>) oldSnapshot).layout;
        if (oldLayout == layout) {
            return TypeSerializerSchemaCompatibility.compatibleAsIs();
        }
        return oldLayout < layout ? TypeSerializerSchemaCompatibility.compatibleAfterMigration()
                : TypeSerializerSchemaCompatibility.incompatible();
    }

    @Override
    public final boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && ((CodecSerializerSnapshot<?>) o).layout == layout;
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
