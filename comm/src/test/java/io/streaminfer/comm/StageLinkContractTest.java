package io.streaminfer.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The point-to-point contract every backend's {@link StageLink} meets: whole messages, bitwise, in order,
 * at every size; a length disagreement, a failed or closed end, or a peer that never comes fail both
 * ends with a clear error within the timeout. NCCL cases skip, saying why, without two CUDA devices.
 */
class StageLinkContractTest {
    private static final int[] LENGTHS = {0, 1, 3, 288, 64 * 288, 100_003, 1 << 20};

    static Stream<Arguments> links() {
        List<Arguments> out = new ArrayList<>();
        for (CommBackend backend : CommBackend.values()) {
            for (int capacity : new int[] {0, 1, 2}) {
                out.add(Arguments.of(backend, capacity));
            }
        }
        return out.stream();
    }

    private static GroupCoordinator coordinator(CommBackend backend, Duration timeout) {
        if (backend == CommBackend.NCCL) {
            String missing = NcclSupport.unavailableReason();
            Assumptions.assumeTrue(missing == null, "NCCL link test skipped: " + missing);
            Assumptions.assumeTrue(NcclSupport.deviceCount() >= 2, "NCCL link test skipped: needs 2 CUDA devices");
        }
        return new GroupCoordinator(new CommOptions(backend, timeout, CommOptions.DEFAULT_SPIN_WAIT));
    }

    private static StageLink link(CommBackend backend, int capacity, Duration timeout) {
        return coordinator(backend, timeout).formLink("r0", 0, 1, capacity, 0, 1);
    }

    /** Runs {@code body} on its own daemon thread; the future holds what it threw, or null. */
    private static CompletableFuture<Throwable> onThread(String name, ThrowingRunnable body) {
        return started(name, body).done();
    }

    private record Started(Thread thread, CompletableFuture<Throwable> done) {
        /** Returns once the thread waits (blocked in the link), so that what follows releases a waiting end. */
        Started waiting() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (thread.getState() != Thread.State.TIMED_WAITING && thread.getState() != Thread.State.WAITING) {
                assertTrue(System.nanoTime() < deadline, thread.getName() + " never waited: " + thread.getState());
                Thread.sleep(5);
            }
            return this;
        }
    }

    private static Started started(String name, ThrowingRunnable body) {
        CompletableFuture<Throwable> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                body.run();
                done.complete(null);
            } catch (Throwable e) {
                done.complete(e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return new Started(t, done);
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @ParameterizedTest(name = "{0} capacity {1}")
    @MethodSource("links")
    void messagesOfEverySizeArriveBitwise(CommBackend backend, int capacity) throws Exception {
        try (StageLink link = link(backend, capacity, Duration.ofSeconds(30))) {
            CompletableFuture<Throwable> sender = onThread("sender", () -> {
                for (int length : LENGTHS) {
                    float[] data = CommContractTest.data(length, length + 3);
                    link.send(data, 3, length);
                    java.util.Arrays.fill(data, Float.NaN); // the link copied it: overwriting is allowed
                }
            });
            for (int length : LENGTHS) {
                float[] got = new float[length + 2];
                got[0] = 42f;
                got[length + 1] = 43f;
                link.recv(got, 1, length);
                float[] expected = CommContractTest.data(length, length + 3);
                assertArrayEquals(java.util.Arrays.copyOfRange(expected, 3, 3 + length),
                        java.util.Arrays.copyOfRange(got, 1, 1 + length), 0f, "length " + length);
                assertEquals(42f, got[0], "the float before the range is untouched");
                assertEquals(43f, got[length + 1], "the float after the range is untouched");
            }
            assertNull(sender.get(30, TimeUnit.SECONDS));
        }
    }

    @ParameterizedTest(name = "{0} capacity {1}")
    @MethodSource("links")
    void messagesArriveInTheOrderSent(CommBackend backend, int capacity) throws Exception {
        int messages = 400;
        try (StageLink link = link(backend, capacity, Duration.ofSeconds(30))) {
            CompletableFuture<Throwable> sender = onThread("sender", () -> {
                float[] row = new float[288];
                for (int m = 0; m < messages; m++) {
                    java.util.Arrays.fill(row, m);
                    link.send(row, 0, 1 + m % 288);
                }
            });
            float[] row = new float[288];
            for (int m = 0; m < messages; m++) {
                int length = 1 + m % 288;
                link.recv(row, 0, length);
                assertEquals(m, row[0], 0f, "message " + m);
                assertEquals(m, row[length - 1], 0f, "message " + m);
            }
            assertNull(sender.get(30, TimeUnit.SECONDS));
        }
    }

    @ParameterizedTest(name = "{0} capacity {1}")
    @MethodSource("links")
    void lengthsThatDisagreeFailBothEndsNamingThem(CommBackend backend, int capacity) throws Exception {
        try (StageLink link = link(backend, capacity, Duration.ofSeconds(30))) {
            CompletableFuture<Throwable> sender = onThread("sender", () -> {
                // more than the link holds, so the sender is still sending when the receiver fails it
                for (int m = 0; m < capacity + 2; m++) {
                    link.send(new float[10], 0, 10);
                }
            });
            CommException e = assertThrows(CommException.class, () -> link.recv(new float[12], 0, 12));
            assertTrue(e.getMessage().contains("sent 10 floats but the receiver expects 12")
                    && e.getMessage().contains("pp0-tp1>pp1-tp1"), e.getMessage());
            assertInstanceOf(CommException.class, sender.get(30, TimeUnit.SECONDS), "the sender fails too");
        }
    }

    @ParameterizedTest(name = "{0} capacity {1}")
    @MethodSource("links")
    void failingTheLinkReleasesAWaitingEndWithTheCause(CommBackend backend, int capacity) throws Exception {
        try (StageLink link = link(backend, capacity, Duration.ofSeconds(60))) {
            long start = System.nanoTime();
            CompletableFuture<Throwable> receiver = started("receiver", () -> link.recv(new float[4], 0, 4))
                    .waiting().done();
            link.fail(new IllegalStateException("stage 0 rank 1: out of memory in layer 3"));
            Throwable e = receiver.get(10, TimeUnit.SECONDS);
            assertInstanceOf(CommException.class, e);
            assertTrue(e.getMessage().contains("out of memory in layer 3"), e.getMessage());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "not the 60 s timeout");
            assertThrows(CommException.class, () -> link.send(new float[4], 0, 4), "later calls fail too");
        }
    }

    @ParameterizedTest(name = "{0} capacity {1}")
    @MethodSource("links")
    void closingReleasesAWaitingEndAndLaterCallsThrow(CommBackend backend, int capacity) throws Exception {
        GroupCoordinator coordinator = coordinator(backend, Duration.ofSeconds(60));
        StageLink link = coordinator.formLink("closing", 2, 0, capacity, 0, 1);
        assertEquals(java.util.Set.of("pp:closing/pp2-tp0>pp3-tp0"), coordinator.liveGroupNames());
        CompletableFuture<Throwable> receiver = started("receiver", () -> link.recv(new float[4], 0, 4))
                .waiting().done();
        link.close();
        Throwable e = receiver.get(10, TimeUnit.SECONDS);
        assertInstanceOf(CommException.class, e);
        assertTrue(e.getMessage().contains("pp:closing/pp2-tp0>pp3-tp0 was closed"), e.getMessage());
        IllegalStateException after = assertThrows(IllegalStateException.class, () -> link.send(new float[4], 0, 4));
        assertTrue(after.getMessage().contains("after close()"), after.getMessage());
        assertThrows(IllegalStateException.class, () -> link.recv(new float[4], 0, 4));
        assertTrue(coordinator.liveGroupNames().isEmpty(), "closing releases the name");
        link.close(); // twice is harmless
    }

    @ParameterizedTest(name = "{0} capacity {1}")
    @MethodSource("links")
    void closingReleasesAWaitingSenderPromptlyWithTheCause(CommBackend backend, int capacity) throws Exception {
        StageLink link = link(backend, capacity, Duration.ofSeconds(60));
        long start = System.nanoTime();
        // one message more than the link holds, so the sender waits for a receiver that never comes
        CompletableFuture<Throwable> sender = started("sender", () -> {
            for (int m = 0; m <= capacity; m++) {
                link.send(new float[16], 0, 16);
            }
        }).waiting().done();
        link.close();
        Throwable e = sender.get(10, TimeUnit.SECONDS);
        assertInstanceOf(CommException.class, e, "the waiting sender fails with the link's failure");
        assertTrue(e.getMessage().contains("pp0-tp1>pp1-tp1 was closed"), e.getMessage());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "not the 60 s timeout");
        link.close(); // twice is harmless
    }

    @ParameterizedTest(name = "{0} capacity {1}")
    @MethodSource("links")
    void closingWhileBothEndsTransferLeavesNeitherHung(CommBackend backend, int capacity) throws Exception {
        StageLink link = link(backend, capacity, Duration.ofSeconds(60));
        java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
        int length = 1 << 16;
        CompletableFuture<Throwable> sender = onThread("sender", () -> {
            float[] rows = new float[length];
            for (int m = 0; m < 1_000_000; m++) {
                link.send(rows, 0, length);
            }
        });
        CompletableFuture<Throwable> receiver = onThread("receiver", () -> {
            float[] rows = new float[length];
            for (int m = 0; m < 1_000_000; m++) {
                link.recv(rows, 0, length);
                received.incrementAndGet();
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (received.get() < 5) {
            assertTrue(System.nanoTime() < deadline, "only " + received.get() + " messages arrived in 20 s");
            Thread.sleep(1);
        }
        link.close(); // from a third thread, while both ends are inside (or between) their calls
        for (CompletableFuture<Throwable> end : List.of(sender, receiver)) {
            Throwable e = end.get(10, TimeUnit.SECONDS);
            boolean failedInCall = e instanceof CommException && e.getMessage().contains("was closed");
            boolean calledAfter = e instanceof IllegalStateException && e.getMessage().contains("after close()");
            assertTrue(failedInCall || calledAfter, "an end ends with the close, not with " + e);
        }
    }

    @ParameterizedTest(name = "{0} capacity {1}")
    @MethodSource("links")
    void closingAfterAFailureAndClosingTwiceAreSafe(CommBackend backend, int capacity) throws Exception {
        GroupCoordinator coordinator = coordinator(backend, Duration.ofSeconds(30));
        StageLink failed = coordinator.formLink("again", 0, 0, capacity, 0, 1);
        failed.fail(new IllegalStateException("stage 1 rank 0 died"));
        assertThrows(CommException.class, () -> failed.recv(new float[1], 0, 1));
        failed.close();
        assertTrue(coordinator.liveGroupNames().isEmpty(), "closing a failed link releases its name");
        assertThrows(IllegalStateException.class, () -> failed.send(new float[1], 0, 1));
        // the same name formed anew is not the old link's: closing the old one again leaves it alone
        StageLink fresh = coordinator.formLink("again", 0, 0, capacity, 0, 1);
        failed.close();
        assertEquals(java.util.Set.of("pp:again/pp0-tp0>pp1-tp0"), coordinator.liveGroupNames());
        CompletableFuture<Throwable> sender = onThread("sender", () -> fresh.send(new float[] {5f, 6f}, 0, 2));
        float[] got = new float[2];
        fresh.recv(got, 0, 2);
        assertArrayEquals(new float[] {5f, 6f}, got, 0f);
        assertNull(sender.get(10, TimeUnit.SECONDS));
        fresh.close();
        fresh.close();
        assertTrue(coordinator.liveGroupNames().isEmpty());
    }

    @ParameterizedTest(name = "{0} capacity {1}")
    @MethodSource("links")
    void aSenderThatNeverComesFailsTheReceiverWithinTheTimeout(CommBackend backend, int capacity) {
        try (StageLink link = link(backend, capacity, Duration.ofMillis(300))) {
            long start = System.nanoTime();
            CommException e = assertThrows(CommException.class, () -> link.recv(new float[4], 0, 4));
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 250 && ms < 10_000, "failed after " + ms + " ms");
            assertEquals(AbstractStageLink.SENDER, e.failedRank(), e.getMessage());
            assertTrue(e.getMessage().contains("nothing arrived") || e.getMessage().contains("did not complete"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("PT0.3S"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0} capacity {1}")
    @MethodSource("links")
    void aReceiverThatNeverComesFailsTheSenderWithinTheTimeout(CommBackend backend, int capacity) {
        try (StageLink link = link(backend, capacity, Duration.ofMillis(300))) {
            long start = System.nanoTime();
            CommException e = assertThrows(CommException.class, () -> {
                for (int m = 0; m <= capacity; m++) {
                    link.send(new float[4], 0, 4);
                }
            });
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 250 && ms < 10_000, "failed after " + ms + " ms");
            assertEquals(AbstractStageLink.RECEIVER, e.failedRank(), e.getMessage());
            assertTrue(e.getMessage().contains("PT0.3S"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0} capacity {1}")
    @MethodSource("links")
    void waitsAreMeasuredOnEachEnd(CommBackend backend, int capacity) throws Exception {
        try (StageLink link = link(backend, capacity, Duration.ofSeconds(30))) {
            // the receiver is already blocked when the 200 ms start, so it waits at least that long
            CompletableFuture<Throwable> receiver = started("receiver", () -> link.recv(new float[8], 0, 8))
                    .waiting().done();
            Thread.sleep(200);
            link.send(new float[8], 0, 8);
            assertNull(receiver.get(10, TimeUnit.SECONDS));
            assertTrue(link.recvWaitNanos() >= TimeUnit.MILLISECONDS.toNanos(200),
                    "receiver waited " + link.recvWaitNanos() + " ns");
        }
    }

    @Test
    void inProcessSenderRunsCapacityMessagesAheadAndARendezvousWaitsForTheReceiver() throws Exception {
        try (StageLink ahead = link(CommBackend.IN_PROCESS, 3, Duration.ofSeconds(30))) {
            long start = System.nanoTime();
            for (int m = 0; m < 3; m++) {
                ahead.send(new float[] {m}, 0, 1);   // returns without a receiver: the buffers hold them
            }
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5));
            float[] got = new float[1];
            for (int m = 0; m < 3; m++) {
                ahead.recv(got, 0, 1);
                assertEquals(m, got[0], 0f);
            }
        }
        try (StageLink rendezvous = link(CommBackend.IN_PROCESS, 0, Duration.ofSeconds(30))) {
            CompletableFuture<Long> sendNanos = new CompletableFuture<>();
            started("sender", () -> {
                long start = System.nanoTime();
                rendezvous.send(new float[] {7}, 0, 1);
                sendNanos.complete(System.nanoTime() - start);
            }).waiting();
            Thread.sleep(200);
            assertTrue(!sendNanos.isDone(), "a rendezvous send returns only once the receiver has the message");
            float[] got = new float[1];
            rendezvous.recv(got, 0, 1);
            assertEquals(7f, got[0], 0f);
            assertTrue(sendNanos.get(10, TimeUnit.SECONDS) >= TimeUnit.MILLISECONDS.toNanos(150));
            assertTrue(rendezvous.sendWaitNanos() >= TimeUnit.MILLISECONDS.toNanos(150));
        }
    }

    @Test
    void linkNamesAreUniquePerCoordinatorAndReleasedOnClose() {
        GroupCoordinator coordinator = new GroupCoordinator(CommOptions.inProcess());
        StageLink a = coordinator.formLink("7", 0, 1, 2, 0, 1);
        assertEquals("pp:7/pp0-tp1>pp1-tp1", a.name());
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> coordinator.formLink("7", 0, 1, 2, 0, 1));
        assertTrue(dup.getMessage().contains("pp:7/pp0-tp1>pp1-tp1 already exists"), dup.getMessage());
        StageLink b = coordinator.formLink("7", 1, 1, 2, 0, 1);
        assertEquals(2, coordinator.liveGroupNames().size());
        a.close();
        b.close();
        assertTrue(coordinator.liveGroupNames().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> coordinator.formLink("7", 0, 0, -1, 0, 1));
        assertTrue(coordinator.liveGroupNames().isEmpty(), "a refused link leaves no name behind");
    }

    @Test
    void ncclOnOneDeviceIsRefusedNamingTheLink() {
        String missing = NcclSupport.unavailableReason();
        GroupCoordinator coordinator = new GroupCoordinator(CommOptions.inProcess().withBackend(CommBackend.NCCL));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> coordinator.formLink("n", 0, 0, 1, 0, 0));
        assertTrue(e.getMessage().contains("pp:n/pp0-tp0>pp1-tp0"), e.getMessage());
        assertTrue(missing != null ? e.getMessage().contains("cannot run here") : e.getMessage().contains("two distinct"),
                e.getMessage());
        assertTrue(coordinator.liveGroupNames().isEmpty());
    }
}
