package io.streaminfer.job.kafka;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;

/**
 * Asks the brokers, before the job is submitted, what the job would otherwise find out in a restart loop:
 * can they be reached (with the job's own client properties: TLS, SASL), and do its topics exist. One
 * admin client, one bounded wait: the properties' {@code default.api.timeout.ms}, else 30 s.
 */
public final class KafkaProbe {
    /** How long the probe waits when the properties do not say (Kafka's own default is 60 s). */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private KafkaProbe() {}

    /**
     * @param properties the job's extra client properties (security settings among them)
     * @param topics topics the job reads or writes
     * @throws IllegalStateException in one line, naming the servers and what failed
     */
    public static void check(String servers, Map<String, String> properties, Collection<String> topics) {
        Duration timeout = timeout(properties);
        Properties admin = new Properties();
        admin.putAll(properties);
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        admin.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(timeout.toMillis()));
        admin.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(timeout.toMillis()));
        // Fail fast instead of retrying a handshake that cannot succeed.
        admin.putIfAbsent(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        Set<String> existing;
        Admin client;
        try {
            client = Admin.create(admin);
        } catch (RuntimeException e) {
            throw new IllegalStateException("Kafka client settings for " + servers + " are refused: " + reason(e), e);
        }
        try (client) {
            existing = client.listTopics(new ListTopicsOptions().timeoutMs((int) timeout.toMillis())).names()
                    .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw unreachable(servers, timeout, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SslAuthenticationException) {
                throw new IllegalStateException("TLS handshake with Kafka at " + servers + " failed: " + reason(cause)
                        + " (check ssl.truststore.location and security.protocol)", cause);
            }
            if (cause instanceof AuthenticationException) {
                throw new IllegalStateException("Kafka at " + servers + " refused the credentials: " + reason(cause),
                        cause);
            }
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw unreachable(servers, timeout, cause);
            }
            throw new IllegalStateException("Kafka at " + servers + " did not answer: " + reason(cause), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reaching Kafka at " + servers, e);
        }
        Set<String> missing = new TreeSet<>(topics);
        missing.removeAll(existing);
        if (!missing.isEmpty()) {
            throw new IllegalStateException("Kafka at " + servers + " has no topic " + String.join(", ", missing)
                    + ": create " + (missing.size() == 1 ? "it" : "them") + " first (the job does not create topics)");
        }
    }

    /** The properties' {@code default.api.timeout.ms}, else {@link #DEFAULT_TIMEOUT}. */
    static Duration timeout(Map<String, String> properties) {
        String given = properties.get(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG);
        if (given == null) {
            return DEFAULT_TIMEOUT;
        }
        try {
            long millis = Long.parseLong(given.trim());
            if (millis > 0) {
                return Duration.ofMillis(millis);
            }
        } catch (NumberFormatException e) {
            // named below
        }
        throw new IllegalArgumentException("--kafka-property " + AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG
                + "=" + given + ": expected a positive number of milliseconds");
    }

    private static IllegalStateException unreachable(String servers, Duration timeout, Throwable cause) {
        return new IllegalStateException("cannot reach Kafka at " + servers + " within " + timeout.toMillis() + " ms "
                + "(is a broker listening there? --kafka-property default.api.timeout.ms=... waits longer)", cause);
    }

    private static String reason(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != e && root.getMessage() != null && !message.contains(root.getMessage())) {
            message += ": " + root.getMessage();
        }
        return message.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}
