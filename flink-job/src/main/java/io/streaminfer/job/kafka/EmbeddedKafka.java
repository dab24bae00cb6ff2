package io.streaminfer.job.kafka;

import java.io.IOException;
import java.io.PrintStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real single-node Kafka broker (KRaft, broker and controller in one node) inside this JVM, for
 * local runs, the demo and integration tests. Listens on loopback only, on free ports; keeps its log
 * in a temporary directory that {@link #close()} deletes.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = new EmbeddedKafka()) {
 *     kafka.start();
 *     kafka.createTopic("prompts", 4);
 *     String bootstrap = kafka.bootstrapServers();
 * }
 * }</pre>
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    /** Set to 1: on one node every internal topic must live with a single replica, and one partition is enough. */
    private static final List<String> SINGLE_NODE_SETTINGS = List.of(
            "offsets.topic.replication.factor", "offsets.topic.num.partitions",
            "transaction.state.log.replication.factor", "transaction.state.log.min.isr",
            "transaction.state.log.num.partitions",
            "share.coordinator.state.topic.replication.factor", "share.coordinator.state.topic.min.isr",
            "min.insync.replicas", "default.replication.factor", "num.partitions");

    private final Map<String, String> extraBrokerProperties;
    private final Tls tls;
    private Path logDir;
    private KafkaRaftServer server;
    private String bootstrapServers;
    private String sslBootstrapServers;

    /**
     * The broker's key for an SSL listener beside the plaintext one.
     *
     * @param keyStore a PKCS12 key store holding the broker's key and certificate (for 127.0.0.1)
     * @param password the store's and the key's password
     */
    public record Tls(Path keyStore, String password) {}

    public EmbeddedKafka() {
        this(Map.of());
    }

    /** @param extraBrokerProperties broker settings that override the defaults (e.g. log retention) */
    public EmbeddedKafka(Map<String, String> extraBrokerProperties) {
        this(extraBrokerProperties, null);
    }

    /**
     * @param tls when given, the broker also listens for TLS clients ({@link #sslBootstrapServers()}); the
     *     plaintext listener stays for the broker's own traffic and for {@link #createTopic}
     */
    public EmbeddedKafka(Map<String, String> extraBrokerProperties, Tls tls) {
        this.extraBrokerProperties = Map.copyOf(extraBrokerProperties);
        this.tls = tls;
    }

    /** Formats a fresh log directory and starts the broker; returns when it accepts clients. */
    public synchronized EmbeddedKafka start() {
        if (server != null) {
            throw new IllegalStateException("EmbeddedKafka is already started at " + bootstrapServers);
        }
        try {
            logDir = Files.createTempDirectory("streaminfer-kafka-");
            int brokerPort = freePort();
            int controllerPort = freePort();
            bootstrapServers = "127.0.0.1:" + brokerPort;
            Properties props = brokerProperties(brokerPort, controllerPort);
            if (tls != null) {
                int sslPort = freePort();
                sslBootstrapServers = "127.0.0.1:" + sslPort;
                addSslListener(props, sslPort);
            }
            formatLogDir();
            KafkaRaftServer raftServer = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            raftServer.startup();
            server = raftServer;
            awaitReady();
            return this;
        } catch (Exception e) {
            close();
            throw new IllegalStateException("could not start the embedded Kafka broker: " + e.getMessage(), e);
        }
    }

    /** host:port of the broker listener, for {@code bootstrap.servers}. */
    public synchronized String bootstrapServers() {
        if (server == null) {
            throw new IllegalStateException("EmbeddedKafka is not started");
        }
        return bootstrapServers;
    }

    /** host:port of the TLS listener, for clients with {@code security.protocol=SSL}. */
    public synchronized String sslBootstrapServers() {
        if (server == null || sslBootstrapServers == null) {
            throw new IllegalStateException(server == null ? "EmbeddedKafka is not started"
                    : "EmbeddedKafka was started without TLS");
        }
        return sslBootstrapServers;
    }

    /** Creates a topic with replication factor 1 and waits for it; an existing topic is left as it is. */
    public void createTopic(String name, int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("could not create topic " + name + ": " + e.getCause().getMessage(), e);
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not create topic " + name + ": " + e.getMessage(), e);
        }
    }

    /** Stops the broker and deletes its log directory. Safe to call twice. */
    @Override
    public synchronized void close() {
        if (server != null) {
            try {
                server.shutdown();
                server.awaitShutdown();
            } finally {
                server = null;
            }
        }
        if (logDir != null) {
            deleteRecursively(logDir);
            logDir = null;
        }
    }

    private Properties brokerProperties(int brokerPort, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + "," + CONTROLLER_LISTENER + "://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", logDir.toString());
        SINGLE_NODE_SETTINGS.forEach(key -> p.put(key, "1"));
        // Consumers join at once instead of waiting 3 s for more members.
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("log.flush.interval.messages", "10000");
        extraBrokerProperties.forEach(p::put);
        return p;
    }

    private void addSslListener(Properties p, int sslPort) {
        p.put("listeners", p.get("listeners") + ",SSL://127.0.0.1:" + sslPort);
        p.put("advertised.listeners", p.get("advertised.listeners") + ",SSL://127.0.0.1:" + sslPort);
        p.put("listener.security.protocol.map", p.get("listener.security.protocol.map") + ",SSL:SSL");
        p.put("ssl.keystore.type", "PKCS12");
        p.put("ssl.keystore.location", tls.keyStore().toAbsolutePath().toString());
        p.put("ssl.keystore.password", tls.password());
        p.put("ssl.key.password", tls.password());
        p.put("ssl.client.auth", "none");
    }

    private void formatLogDir() throws Exception {
        new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                .setNodeId(NODE_ID)
                .setClusterId(Uuid.randomUuid().toString())
                .addDirectory(logDir.toString())
                .setReleaseVersion(MetadataVersion.latestProduction())
                .setControllerListenerName(CONTROLLER_LISTENER)
                .run();
    }

    /** The broker answers metadata requests once it has registered with its controller. */
    private void awaitReady() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try {
                    if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                }
                Thread.sleep(50);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    private static void deleteRecursively(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // A leftover temp dir is harmless; never let cleanup hide the real outcome.
        }
    }
}
