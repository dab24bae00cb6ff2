package io.streaminfer.comm;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Forms tensor-parallel groups for the replicas of one JVM. Each group is named {@code tp:<replica>};
 * a name stays taken until its group is closed, so two live groups can never be confused. Groups share
 * nothing, so many replicas can run side by side.
 */
public final class GroupCoordinator {
    private final CommOptions options;
    private final Set<String> liveNames = ConcurrentHashMap.newKeySet();

    public GroupCoordinator(CommOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("comm options must be set");
        }
        this.options = options;
    }

    public CommOptions options() {
        return options;
    }

    /**
     * Forms the group {@code tp:<replicaId>} of {@code size} ranks with the configured backend.
     *
     * @throws IllegalArgumentException if the size is not positive or the name is already live
     * @throws IllegalStateException    if NCCL is requested where no CUDA device or NCCL library exists
     */
    public CommGroup form(String replicaId, int size) {
        if (replicaId == null || replicaId.isBlank()) {
            throw new IllegalArgumentException("replica id must be non-empty");
        }
        if (size < 1) {
            throw new IllegalArgumentException("group size must be >= 1, got " + size);
        }
        String name = "tp:" + replicaId;
        if (!liveNames.add(name)) {
            throw new IllegalArgumentException("group " + name + " already exists; close it first");
        }
        Runnable release = () -> liveNames.remove(name);
        try {
            switch (options.backend()) {
                case IN_PROCESS:
                    return size == 1 ? new SoloGroup(name, release) : new InProcessGroup(name, size, options, release);
                case NCCL:
                    return NcclGroup.create(name, size, options, release);
                default:
                    throw new IllegalStateException("unhandled backend " + options.backend());
            }
        } catch (RuntimeException | Error e) {
            release.run();
            throw e;
        }
    }

    /** Names of the groups formed here and not yet closed. */
    public Set<String> liveGroupNames() {
        return Set.copyOf(liveNames);
    }
}
