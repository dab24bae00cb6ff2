package io.streaminfer.job.kafka;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link EmbeddedKafka} broker for a test class: started before its first test, closed after its last.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension();
 * }</pre>
 */
public final class EmbeddedKafkaExtension implements BeforeAllCallback, AfterAllCallback {
    private EmbeddedKafka broker;

    @Override
    public void beforeAll(ExtensionContext context) {
        broker = new EmbeddedKafka().start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }

    /** {@link EmbeddedKafka#bootstrapServers()} of the class's broker. */
    public String bootstrapServers() {
        return broker().bootstrapServers();
    }

    /** {@link EmbeddedKafka#createTopic(String, int)} on the class's broker. */
    public void createTopic(String name, int partitions) {
        broker().createTopic(name, partitions);
    }

    private EmbeddedKafka broker() {
        if (broker == null) {
            throw new IllegalStateException("no broker: register the extension on a static field with @RegisterExtension");
        }
        return broker;
    }
}
