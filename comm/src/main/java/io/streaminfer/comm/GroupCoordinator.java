package io.streaminfer.comm;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Forms tensor-parallel groups and pipeline stage links for the replicas of one JVM. Each group is named
 * {@code tp:<replica>} (a pipeline stage's {@code tp:<replica>-pp<s>}), each link
 * {@code pp:<replica>/pp<s>-tp<r>>pp<s+1>-tp<r>}; a name stays taken until it is closed, so two live
 * groups can never be confused. Groups and links share nothing, so many replicas can run side by side.
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
        return form(replicaId, size, 0);
    }

    /**
     * Like {@link #form(String, int)}, with NCCL rank r on CUDA device {@code firstDevice + r} (a pipeline
     * stage s of TP degree t starts at device s * t); the in-process backend ignores devices.
     */
    public CommGroup form(String replicaId, int size, int firstDevice) {
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
                    return NcclGroup.create(name, size, firstDevice, options, release);
                default:
                    throw new IllegalStateException("unhandled backend " + options.backend());
            }
        } catch (RuntimeException | Error e) {
            release.run();
            throw e;
        }
    }

    /**
     * Forms the link {@code pp:<replicaId>/pp<s>-tp<r>>pp<s+1>-tp<r>} from rank {@code tpRank} of stage
     * {@code fromStage} to the same rank of the next stage, with the configured backend.
     *
     * @param capacity messages the sender may run ahead of the receiver (0: rendezvous)
     * @param senderDevice   CUDA device of the sending rank (NCCL only)
     * @param receiverDevice CUDA device of the receiving rank (NCCL only)
     * @throws IllegalArgumentException if an index is negative or the name is already live
     * @throws IllegalStateException    if NCCL is requested where it cannot run, or on one device
     */
    public StageLink formLink(String replicaId, int fromStage, int tpRank, int capacity, int senderDevice,
                              int receiverDevice) {
        if (replicaId == null || replicaId.isBlank()) {
            throw new IllegalArgumentException("replica id must be non-empty");
        }
        if (fromStage < 0 || tpRank < 0) {
            throw new IllegalArgumentException("stage and rank must be >= 0, got " + fromStage + " and " + tpRank);
        }
        String name = "pp:" + replicaId + "/pp" + fromStage + "-tp" + tpRank + ">pp" + (fromStage + 1) + "-tp" + tpRank;
        if (!liveNames.add(name)) {
            throw new IllegalArgumentException("link " + name + " already exists; close it first");
        }
        Runnable release = () -> liveNames.remove(name);
        try {
            switch (options.backend()) {
                case IN_PROCESS:
                    return new InProcessStageLink(name, capacity, options, release);
                case NCCL:
                    return NcclStageLink.create(name, capacity, options, release, senderDevice, receiverDevice);
                default:
                    throw new IllegalStateException("unhandled backend " + options.backend());
            }
        } catch (RuntimeException | Error e) {
            release.run();
            throw e;
        }
    }

    /** Names of the groups and links formed here and not yet closed. */
    public Set<String> liveGroupNames() {
        return Set.copyOf(liveNames);
    }
}
