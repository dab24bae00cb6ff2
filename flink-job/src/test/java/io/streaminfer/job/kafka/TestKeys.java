package io.streaminfer.job.kafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Keys made at test time with the JDK's {@code keytool} (none are committed): a self-signed certificate
 * for 127.0.0.1 in a PKCS12 key store, and a trust store holding that certificate.
 */
public final class TestKeys {
    public static final String PASSWORD = "streaminfer-test";

    /** A key store (for a broker) and the trust store that trusts it. */
    public record Pair(Path keyStore, Path trustStore) {
        public EmbeddedKafka.Tls brokerTls() {
            return new EmbeddedKafka.Tls(keyStore, PASSWORD);
        }
    }

    private TestKeys() {}

    /** Makes {@code name}.p12 and {@code name}-trust.p12 in {@code dir}. */
    public static Pair make(Path dir, String name) throws IOException, InterruptedException {
        Path keyStore = dir.resolve(name + ".p12");
        Path certificate = dir.resolve(name + ".crt");
        Path trustStore = dir.resolve(name + "-trust.p12");
        keytool("-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-storetype", "PKCS12",
                "-keystore", keyStore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-alias", name, "-keystore", keyStore.toString(), "-storepass", PASSWORD,
                "-file", certificate.toString());
        keytool("-importcert", "-noprompt", "-alias", name, "-file", certificate.toString(), "-storetype", "PKCS12",
                "-keystore", trustStore.toString(), "-storepass", PASSWORD);
        return new Pair(keyStore, trustStore);
    }

    /** The client properties of a TLS connection that trusts {@code trustStore}. */
    public static List<String> clientProperties(Path trustStore) {
        return List.of("security.protocol=SSL", "ssl.truststore.location=" + trustStore,
                "ssl.truststore.password=" + PASSWORD, "ssl.truststore.type=PKCS12");
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("keytool " + String.join(" ", args) + " failed: " + output);
        }
    }
}
