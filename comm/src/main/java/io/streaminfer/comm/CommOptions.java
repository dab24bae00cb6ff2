package io.streaminfer.comm;

import java.time.Duration;
import java.util.Map;

/**
 * How groups are formed.
 *
 * @param backend  which implementation carries the collectives
 * @param timeout  how long a rank waits for its peers inside one collective before the group fails
 * @param spinWait how long a waiting rank busy-spins before it parks; keep it short on machines with
 *                 fewer cores than rank threads
 */
public record CommOptions(CommBackend backend, Duration timeout, Duration spinWait) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_SPIN_WAIT = Duration.ofNanos(2_000);

    /** Configuration keys read by {@link #fromMap(Map)}. */
    public static final String KEY_BACKEND = "comm.backend";
    public static final String KEY_TIMEOUT = "comm.timeout";
    public static final String KEY_SPIN_WAIT = "comm.spin-wait";

    public CommOptions {
        if (backend == null) {
            throw new IllegalArgumentException("comm backend must be set");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("comm timeout must be positive, got " + timeout);
        }
        if (spinWait == null || spinWait.isNegative()) {
            throw new IllegalArgumentException("comm spin-wait must be >= 0, got " + spinWait);
        }
    }

    /** In-process backend with the default timeout (60 s) and spin (2 us). */
    public static CommOptions inProcess() {
        return new CommOptions(CommBackend.IN_PROCESS, DEFAULT_TIMEOUT, DEFAULT_SPIN_WAIT);
    }

    public CommOptions withTimeout(Duration newTimeout) {
        return new CommOptions(backend, newTimeout, spinWait);
    }

    public CommOptions withBackend(CommBackend newBackend) {
        return new CommOptions(newBackend, timeout, spinWait);
    }

    /**
     * Reads {@code comm.backend} (in-process | nccl), {@code comm.timeout} and {@code comm.spin-wait}
     * (ISO-8601 like {@code PT30S}, or a number with unit {@code ms}, {@code us} or {@code s}); missing
     * keys take the defaults.
     */
    public static CommOptions fromMap(Map<String, String> conf) {
        CommBackend backend = conf.containsKey(KEY_BACKEND)
                ? CommBackend.parse(conf.get(KEY_BACKEND)) : CommBackend.IN_PROCESS;
        Duration timeout = conf.containsKey(KEY_TIMEOUT)
                ? parseDuration(KEY_TIMEOUT, conf.get(KEY_TIMEOUT)) : DEFAULT_TIMEOUT;
        Duration spin = conf.containsKey(KEY_SPIN_WAIT)
                ? parseDuration(KEY_SPIN_WAIT, conf.get(KEY_SPIN_WAIT)) : DEFAULT_SPIN_WAIT;
        return new CommOptions(backend, timeout, spin);
    }

    static Duration parseDuration(String key, String text) {
        String t = text.trim();
        try {
            if (t.startsWith("P") || t.startsWith("p")) {
                return Duration.parse(t);
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2).trim()));
            }
            if (t.endsWith("us")) {
                return Duration.ofNanos(1000L * Long.parseLong(t.substring(0, t.length() - 2).trim()));
            }
            if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1).trim()));
            }
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(key + ": cannot parse duration '" + text + "'", e);
        }
        throw new IllegalArgumentException(
                key + ": duration '" + text + "' needs a unit (ms, us, s) or ISO-8601 form like PT30S");
    }
}
