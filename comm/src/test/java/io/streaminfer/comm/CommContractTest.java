package io.streaminfer.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract every backend meets, checked against scalar references. NCCL cases skip, saying why,
 * where no CUDA device or NCCL library is present.
 */
class CommContractTest {
    /** From 1 element to 4 MiB, with lengths not divisible by any group size, around the small path. */
    private static final int[] LENGTHS = {1, 3, 7, 288, 1000, InProcessCommunicator.SMALL_ALL_REDUCE,
        InProcessCommunicator.SMALL_ALL_REDUCE + 1, 100_003, 1 << 20};

    static Stream<Arguments> groups() {
        List<Arguments> out = new ArrayList<>();
        for (CommBackend backend : CommBackend.values()) {
            for (int size = 1; size <= 8; size++) {
                out.add(Arguments.of(backend, size));
            }
        }
        return out.stream();
    }

    static Stream<Arguments> multiRankGroups() {
        return groups().filter(a -> (int) a.get()[1] >= 2);
    }

    private static GroupCoordinator coordinator(CommBackend backend, int size, Duration timeout) {
        if (backend == CommBackend.NCCL) {
            String missing = NcclSupport.unavailableReason();
            Assumptions.assumeTrue(missing == null, "NCCL contract test skipped: " + missing);
            Assumptions.assumeTrue(NcclSupport.deviceCount() >= size,
                    "NCCL contract test skipped: needs " + size + " CUDA devices");
        }
        return new GroupCoordinator(new CommOptions(backend, timeout, CommOptions.DEFAULT_SPIN_WAIT));
    }

    private static GroupCoordinator coordinator(CommBackend backend, int size) {
        return coordinator(backend, size, Duration.ofSeconds(30));
    }

    /** Group {@code tp:<name>} of {@code size} ranks, formed by a coordinator of its own. */
    private static CommGroup form(CommBackend backend, int size, String name, Duration timeout) {
        return coordinator(backend, size, timeout).form(name, size);
    }

    private static CommGroup form(CommBackend backend, int size, String name) {
        return coordinator(backend, size).form(name, size);
    }

    /** Values spread over seven decades, so the order of summation changes the rounded result. */
    static float[] data(long seed, int length) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[length];
        for (int i = 0; i < length; i++) {
            v[i] = (float) ((rnd.nextDouble() - 0.5) * Math.pow(10, rnd.nextInt(7) - 3));
        }
        return v;
    }

    /** The reference: FixedOrder.treeSum over the ranks' values of each element. */
    static float[] treeSumReference(float[][] perRank, int from, int length) {
        int n = perRank.length;
        float[] out = new float[length];
        float[] parts = new float[n];
        for (int i = 0; i < length; i++) {
            for (int r = 0; r < n; r++) {
                parts[r] = perRank[r][from + i];
            }
            out[i] = FixedOrder.treeSum(parts, 0, 1, 0, n);
        }
        return out;
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("groups")
    void allReduceIsBitwiseTheFixedOrderTreeSum(CommBackend backend, int size) throws Exception {
        try (CommGroup group = form(backend, size, "ar")) {
            for (int length : LENGTHS) {
                int offset = 5;
                float[][] inputs = new float[size][];
                for (int r = 0; r < size; r++) {
                    inputs[r] = data(1000L * r + length, offset + length + 2);
                }
                float[] expected = treeSumReference(inputs, offset, length);
                float[][] bufs = new float[size][];
                for (int r = 0; r < size; r++) {
                    bufs[r] = inputs[r].clone();
                }
                RankRunner.runOk(group, c -> c.allReduce(bufs[c.rank()], offset, length));
                for (int r = 0; r < size; r++) {
                    float[] got = java.util.Arrays.copyOfRange(bufs[r], offset, offset + length);
                    assertArrayEquals(expected, got, 0f, "rank " + r + " length " + length);
                    // Bits outside the range stay untouched.
                    assertEquals(inputs[r][offset - 1], bufs[r][offset - 1]);
                    assertEquals(inputs[r][offset + length], bufs[r][offset + length]);
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void referenceOrderMattersSoTheBitwiseCheckCanFail() {
        // Guards the test data: summing the ranks right to left differs from the tree sum on some
        // element, so an implementation that summed in another order would fail the bitwise checks.
        int length = 100_003;
        for (int size = 2; size <= 8; size++) {
            float[][] inputs = new float[size][];
            for (int r = 0; r < size; r++) {
                inputs[r] = data(1000L * r + length, length);
            }
            float[] tree = treeSumReference(inputs, 0, length);
            int differing = 0;
            for (int i = 0; i < length; i++) {
                float reversed = 0;
                for (int r = size - 1; r >= 0; r--) {
                    reversed += inputs[r][i];
                }
                if (Float.floatToRawIntBits(reversed) != Float.floatToRawIntBits(tree[i])) {
                    differing++;
                }
            }
            if (size >= 3) {
                assertTrue(differing > 0, "test data too tame at " + size + " ranks: orders agree everywhere");
            } else {
                assertEquals(0, differing, "two operands: addition is commutative");
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("groups")
    void allReduceRepeatsBitwise(CommBackend backend, int size) throws Exception {
        int length = 50_001;
        float[][] first = new float[size][];
        try (CommGroup group = form(backend, size, "rep")) {
            for (int run = 0; run < 5; run++) {
                float[][] bufs = new float[size][];
                for (int r = 0; r < size; r++) {
                    bufs[r] = data(77L + r, length);
                }
                RankRunner.runOk(group, c -> c.allReduce(bufs[c.rank()], 0, length));
                for (int r = 0; r < size; r++) {
                    if (run == 0) {
                        first[r] = bufs[r];
                    }
                    assertArrayEquals(first[0], bufs[r], 0f, "run " + run + " rank " + r + " differs from rank 0 run 0");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("groups")
    void allGatherPlacesEveryRanksBlock(CommBackend backend, int size) throws Exception {
        try (CommGroup group = form(backend, size, "ag")) {
            for (int count : new int[] {1, 3, 288, 64 * 1000, 300_001}) {
                float[][] sends = new float[size][];
                float[][] recvs = new float[size][];
                for (int r = 0; r < size; r++) {
                    sends[r] = data(31L * r + count, count + 2);
                    recvs[r] = new float[size * count + 3];
                }
                RankRunner.runOk(group, c -> c.allGather(sends[c.rank()], 2, count, recvs[c.rank()], 3));
                for (int r = 0; r < size; r++) {
                    for (int b = 0; b < size; b++) {
                        assertArrayEquals(java.util.Arrays.copyOfRange(sends[b], 2, 2 + count),
                                java.util.Arrays.copyOfRange(recvs[r], 3 + b * count, 3 + (b + 1) * count), 0f,
                                "rank " + r + " block " + b + " count " + count);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("groups")
    void allGatherInPlace(CommBackend backend, int size) throws Exception {
        int count = 1001;
        try (CommGroup group = form(backend, size, "agi")) {
            float[][] bufs = new float[size][];
            float[][] blocks = new float[size][];
            for (int r = 0; r < size; r++) {
                blocks[r] = data(5L * r, count);
                bufs[r] = new float[size * count];
                System.arraycopy(blocks[r], 0, bufs[r], r * count, count);
            }
            RankRunner.runOk(group, c -> c.allGather(bufs[c.rank()], c.rank() * count, count, bufs[c.rank()], 0));
            for (int r = 0; r < size; r++) {
                for (int b = 0; b < size; b++) {
                    assertArrayEquals(blocks[b], java.util.Arrays.copyOfRange(bufs[r], b * count, (b + 1) * count), 0f);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("groups")
    void reduceScatterGivesEachRankTheTreeSumOfItsBlock(CommBackend backend, int size) throws Exception {
        try (CommGroup group = form(backend, size, "rs")) {
            for (int count : new int[] {1, 7, 288, 100_003}) {
                float[][] sends = new float[size][];
                float[][] recvs = new float[size][];
                for (int r = 0; r < size; r++) {
                    sends[r] = data(13L * r + count, size * count + 1);
                    recvs[r] = new float[count + 1];
                }
                RankRunner.runOk(group, c -> c.reduceScatter(sends[c.rank()], 1, count, recvs[c.rank()], 1));
                for (int r = 0; r < size; r++) {
                    float[] expected = treeSumReference(sends, 1 + r * count, count);
                    assertArrayEquals(expected, java.util.Arrays.copyOfRange(recvs[r], 1, 1 + count), 0f,
                            "rank " + r + " count " + count);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("groups")
    void broadcastCopiesTheRootsBufferFromEveryRoot(CommBackend backend, int size) throws Exception {
        try (CommGroup group = form(backend, size, "bc")) {
            for (int root = 0; root < size; root++) {
                int length = 10_007;
                float[][] bufs = new float[size][];
                for (int r = 0; r < size; r++) {
                    bufs[r] = data(r * 7L + root, length + 1);
                }
                float[] rootData = bufs[root].clone();
                int theRoot = root;
                RankRunner.runOk(group, c -> c.broadcast(bufs[c.rank()], 1, length, theRoot));
                for (int r = 0; r < size; r++) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(rootData, 1, 1 + length),
                            java.util.Arrays.copyOfRange(bufs[r], 1, 1 + length), 0f, "rank " + r + " root " + root);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("groups")
    void manyCollectivesInSequenceStayInStep(CommBackend backend, int size) throws Exception {
        try (CommGroup group = form(backend, size, "seq")) {
            int steps = 300;
            float[][] totals = new float[size][1];
            RankRunner.runOk(group, c -> {
                float[] x = new float[288];
                float[] gathered = new float[288 * c.size()];
                for (int s = 0; s < steps; s++) {
                    java.util.Arrays.fill(x, c.rank() + 1);
                    c.allReduce(x, 0, x.length);
                    c.allGather(x, 0, x.length, gathered, 0);
                    c.barrier();
                    totals[c.rank()][0] += gathered[gathered.length - 1];
                }
            });
            float perStep = size * (size + 1) / 2f;
            for (int r = 0; r < size; r++) {
                assertEquals(steps * perStep, totals[r][0], 0f, "rank " + r);
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("groups")
    void useAfterCloseIsAClearError(CommBackend backend, int size) {
        GroupCoordinator coordinator = coordinator(backend, size);
        CommGroup group = coordinator.form("closed", size);
        Communicator c = group.communicator(0);
        group.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.allReduce(new float[4], 0, 4));
        assertTrue(e.getMessage().contains("after close()") && e.getMessage().contains("tp:closed"), e.getMessage());
        assertThrows(IllegalStateException.class, c::barrier);
        assertTrue(coordinator.liveGroupNames().isEmpty(), "closing releases the name");
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("multiRankGroups")
    void mismatchedSizesFailEveryRankWithAClearError(CommBackend backend, int size) throws Exception {
        try (CommGroup group = form(backend, size, "mismatch")) {
            Throwable[] errors = RankRunner.runAll(group, c -> {
                int length = c.rank() == size - 1 ? 12 : 10;
                c.allReduce(new float[12], 0, length);
            });
            for (int r = 0; r < size; r++) {
                CommException e = assertInstanceOf(CommException.class, errors[r], "rank " + r);
                assertTrue(e.getMessage().contains("disagree") && e.getMessage().contains("tp:mismatch"), e.getMessage());
                assertEquals(size - 1, e.failedRank());
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("multiRankGroups")
    void differentCollectivesOnDifferentRanksFail(CommBackend backend, int size) throws Exception {
        try (CommGroup group = form(backend, size, "mixed")) {
            Throwable[] errors = RankRunner.runAll(group, c -> {
                if (c.rank() == 1) {
                    c.barrier();
                } else {
                    c.allReduce(new float[8], 0, 8);
                }
            });
            for (int r = 0; r < size; r++) {
                assertInstanceOf(CommException.class, errors[r], "rank " + r);
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("multiRankGroups")
    void aRankThatNeverArrivesFailsItsPeersWithinTheTimeout(CommBackend backend, int size) throws Exception {
        Duration timeout = Duration.ofMillis(300);
        int absent = size - 1;
        try (CommGroup group = form(backend, size, "timeout", timeout)) {
            long start = System.nanoTime();
            Throwable[] errors = RankRunner.runAll(group, c -> {
                float[] x = new float[100_000];
                c.allReduce(x, 0, x.length);          // first collective succeeds
                if (c.rank() == absent) {
                    throw new IllegalStateException("rank work failed");   // dies mid-step, silently
                }
                c.allReduce(x, 0, x.length);
            }, 20);
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(elapsedMs < 10_000, "peers took " + elapsedMs + " ms to fail");
            for (int r = 0; r < size; r++) {
                if (r == absent) {
                    continue;
                }
                CommException e = assertInstanceOf(CommException.class, errors[r], "rank " + r);
                assertEquals(absent, e.failedRank(), e.getMessage());
                assertTrue(e.getMessage().contains("tp:timeout") && e.getMessage().contains("rank " + absent)
                        && e.getMessage().contains("PT0.3S"), e.getMessage());
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("multiRankGroups")
    void aRankThatClosesFailsItsPeersAtOnce(CommBackend backend, int size) throws Exception {
        // Long timeout: the peers must fail because of the close, not because of the timeout.
        int leaver = 0;
        try (CommGroup group = form(backend, size, "leaver", Duration.ofSeconds(60))) {
            long start = System.nanoTime();
            Throwable[] errors = RankRunner.runAll(group, c -> {
                float[] x = new float[4096];
                if (c.rank() == leaver) {
                    Thread.sleep(50);
                    c.close();
                    return;
                }
                c.allReduce(x, 0, x.length);
            }, 20);
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(elapsedMs < 10_000, "peers took " + elapsedMs + " ms to fail");
            for (int r = 1; r < size; r++) {
                CommException e = assertInstanceOf(CommException.class, errors[r], "rank " + r);
                assertEquals(leaver, e.failedRank());
                assertTrue(e.getMessage().contains("rank 0 closed") && e.getMessage().contains("tp:leaver"),
                        e.getMessage());
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("multiRankGroups")
    void failingARankFromOutsideReleasesWaitingPeers(CommBackend backend, int size) throws Exception {
        try (CommGroup group = form(backend, size, "failed", Duration.ofSeconds(60))) {
            Throwable[] errors = RankRunner.runAll(group, c -> {
                if (c.rank() == 1) {
                    Thread.sleep(50);
                    group.fail(1, new RuntimeException("out of memory in layer 3"));
                    return;
                }
                c.allReduce(new float[64], 0, 64);
            }, 20);
            for (int r = 0; r < size; r++) {
                if (r != 1) {
                    CommException e = assertInstanceOf(CommException.class, errors[r], "rank " + r);
                    assertEquals(1, e.failedRank());
                    assertTrue(e.getMessage().contains("out of memory in layer 3"), e.getMessage());
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("multiRankGroups")
    void closingTheGroupReleasesRanksWaitingInACollective(CommBackend backend, int size) throws Exception {
        CommGroup group = form(backend, size, "shutdown", Duration.ofSeconds(60));
        java.util.concurrent.atomic.AtomicReferenceArray<Thread> ranks = new java.util.concurrent.atomic.AtomicReferenceArray<>(size);
        Throwable[] errors = RankRunner.runAll(group, c -> {
            if (c.rank() == 0) {
                // Close only once the peers wait in the collective (a rank arriving after close() is a usage
                // error, IllegalStateException): on a loaded machine 50 ms may not be enough to get there.
                awaitWaiting(ranks, backend);
                group.close();
                return;
            }
            ranks.set(c.rank(), Thread.currentThread());
            c.allReduce(new float[64], 0, 64);
        }, 20);
        for (int r = 1; r < size; r++) {
            CommException e = assertInstanceOf(CommException.class, errors[r], "rank " + r);
            assertTrue(e.getMessage().contains("tp:shutdown was closed"), e.getMessage());
        }
    }

    /** Waits until ranks 1.. are parked (in-process collectives wait on a monitor; NCCL ones spin: a pause). */
    private static void awaitWaiting(java.util.concurrent.atomic.AtomicReferenceArray<Thread> ranks, CommBackend backend)
            throws InterruptedException {
        Thread.sleep(50);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        for (int r = 1; r < ranks.length() && backend == CommBackend.IN_PROCESS; r++) {
            while (System.nanoTime() < deadline && (ranks.get(r) == null
                    || (ranks.get(r).getState() != Thread.State.WAITING
                        && ranks.get(r).getState() != Thread.State.TIMED_WAITING))) {
                Thread.sleep(5);
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("multiRankGroups")
    void anInvalidArgumentOnOneRankFailsItsPeersNamingIt(CommBackend backend, int size) throws Exception {
        try (CommGroup group = form(backend, size, "badarg", Duration.ofSeconds(60))) {
            Throwable[] errors = RankRunner.runAll(group, c -> {
                int offset = c.rank() == 1 ? 10 : 0;
                c.allReduce(new float[16], offset, 16);
            }, 20);
            IllegalArgumentException own = assertInstanceOf(IllegalArgumentException.class, errors[1]);
            assertTrue(own.getMessage().contains("does not fit"), own.getMessage());
            for (int r = 0; r < size; r++) {
                if (r != 1 && backend == CommBackend.IN_PROCESS) {
                    CommException e = assertInstanceOf(CommException.class, errors[r], "rank " + r);
                    assertEquals(1, e.failedRank());
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void inProcessSendAndRecvMayShareOnlyThisRanksBlock() throws Exception {
        // Peers read send while a rank writes recv, so the one overlap allowed is in place.
        int size = 3;
        int count = 4;
        float[][] sends = new float[size][];
        float[][] bufs = new float[size][];
        for (int r = 0; r < size; r++) {
            sends[r] = data(17L * r, size * count);
            bufs[r] = sends[r].clone();
        }
        try (CommGroup group = form(CommBackend.IN_PROCESS, size, "rs-in-place")) {
            RankRunner.runOk(group, c -> c.reduceScatter(bufs[c.rank()], 0, count, bufs[c.rank()], c.rank() * count));
        }
        for (int r = 0; r < size; r++) {
            assertArrayEquals(treeSumReference(sends, r * count, count),
                    java.util.Arrays.copyOfRange(bufs[r], r * count, (r + 1) * count), 0f, "rank " + r);
        }
        float[][] shared = new float[size][size * count + 1];
        Map<String, RankRunner.RankTask> overlapping = Map.of(
                "allGather: send overlaps recv", c -> c.allGather(shared[c.rank()], 1, count, shared[c.rank()], 0),
                "reduceScatter: recv overlaps send", c -> c.reduceScatter(shared[c.rank()], 0, count, shared[c.rank()], 1));
        for (Map.Entry<String, RankRunner.RankTask> call : overlapping.entrySet()) {
            try (CommGroup group = form(CommBackend.IN_PROCESS, size, "overlap")) {
                Throwable[] errors = RankRunner.runAll(group, call.getValue());
                for (int r = 0; r < size; r++) {
                    IllegalArgumentException e = assertInstanceOf(IllegalArgumentException.class, errors[r]);
                    assertTrue(e.getMessage().contains(call.getKey() + " without being this rank's block"), e.getMessage());
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} x{1}")
    @MethodSource("multiRankGroups")
    void manyGroupsAtOnceDoNotSeeEachOther(CommBackend backend, int size) throws Exception {
        Assumptions.assumeTrue(backend == CommBackend.IN_PROCESS || size == 1,
                "NCCL groups each need their own devices");
        GroupCoordinator coordinator = coordinator(backend, size);
        int groups = 3;
        int length = 30_011;
        List<CommGroup> formed = new ArrayList<>();
        List<Thread> drivers = new ArrayList<>();
        Throwable[] failures = new Throwable[groups];
        float[][][] bufs = new float[groups][size][];
        try {
            for (int g = 0; g < groups; g++) {
                CommGroup group = coordinator.form("replica-" + g, size);
                formed.add(group);
                for (int r = 0; r < size; r++) {
                    bufs[g][r] = data(g * 100L + r, length);
                }
            }
            assertEquals(groups, coordinator.liveGroupNames().size());
            IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                    () -> coordinator.form("replica-0", size));
            assertTrue(dup.getMessage().contains("tp:replica-0 already exists"), dup.getMessage());
            for (int g = 0; g < groups; g++) {
                int gi = g;
                Thread t = new Thread(() -> {
                    try {
                        RankRunner.runOk(formed.get(gi), c -> {
                            for (int rep = 0; rep < 20; rep++) {
                                c.barrier();
                            }
                            c.allReduce(bufs[gi][c.rank()], 0, length);
                        });
                    } catch (Throwable e) {
                        failures[gi] = e;
                    }
                }, "driver-" + g);
                t.setDaemon(true);
                drivers.add(t);
            }
            drivers.forEach(Thread::start);
            for (Thread t : drivers) {
                t.join(60_000);
            }
            for (int g = 0; g < groups; g++) {
                if (failures[g] != null) {
                    throw new AssertionError("group " + g, failures[g]);
                }
                float[][] inputs = new float[size][];
                for (int r = 0; r < size; r++) {
                    inputs[r] = data(g * 100L + r, length);
                }
                float[] expected = treeSumReference(inputs, 0, length);
                for (int r = 0; r < size; r++) {
                    assertArrayEquals(expected, bufs[g][r], 0f, "group " + g + " rank " + r);
                }
            }
        } finally {
            formed.forEach(CommGroup::close);
        }
        assertTrue(coordinator.liveGroupNames().isEmpty());
        assertNotNull(coordinator.form("replica-0", size), "a closed group's name can be formed again");
    }
}
