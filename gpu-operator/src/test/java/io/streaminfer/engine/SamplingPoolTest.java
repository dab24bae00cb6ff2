package io.streaminfer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The replica's sampling threads: every job once, on its own named threads, never the common pool. */
class SamplingPoolTest {
    @Test
    void runsEveryJobExactlyOnceOnTheDriverAndItsOwnThreads() {
        try (SamplingPool pool = new SamplingPool("tp:7-sampler", 3)) {
            for (int count : new int[] {0, 1, 3, 4, 5, 17, 64}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(count);
                Set<String> threads = ConcurrentHashMap.newKeySet();
                pool.run(count, i -> {
                    runs.incrementAndGet(i);
                    threads.add(Thread.currentThread().getName());
                });
                for (int i = 0; i < count; i++) {
                    assertEquals(1, runs.get(i), "job " + i + " of " + count);
                }
                for (String name : threads) {
                    assertTrue(name.equals(Thread.currentThread().getName()) || name.equals("tp:7-sampler"), name);
                }
                if (count >= 16) {
                    assertTrue(threads.contains("tp:7-sampler"), "helpers take part at " + count + " jobs");
                }
            }
        }
    }

    @Test
    void withoutHelpersTheDriverSamplesAlone() {
        try (SamplingPool pool = new SamplingPool("x", 0)) {
            Set<String> threads = ConcurrentHashMap.newKeySet();
            pool.run(40, i -> threads.add(Thread.currentThread().getName()));
            assertEquals(Set.of(Thread.currentThread().getName()), threads);
        }
    }

    @Test
    void aBrokenHelperFailsTheCall() {
        try (SamplingPool pool = new SamplingPool("x", 2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run(30, i -> {
                if (i == 29) {
                    throw new IllegalStateException("boom");
                }
            }));
            assertEquals("boom", e.getCause().getMessage());
        }
    }
}
