package io.streaminfer.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.Filter;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.properties.PropertiesConfiguration;
import org.apache.logging.log4j.core.config.properties.PropertiesConfigurationFactory;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.ParameterizedMessage;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The console of {@code java -jar} (and the local cluster's logs) shows the job's own lines: the two sink
 * metrics Flink registers twice per operator (at every checkpoint) are dropped, and nothing else is.
 */
class LogConfigurationTest {
    /** Flink's own wording (AbstractMetricGroup), with the metric name and the group's scope as parameters. */
    private static final String COLLISION = "Name collision: Group already contains a Metric with the name '{}'. "
            + "Metric will not be reported.{}";
    private static final String METRIC_LOGGER = "org.apache.flink.metrics.MetricGroup";

    private static Filter.Result decide(PropertiesConfiguration config, String metric) {
        LoggerConfig logger = config.getLoggerConfig(METRIC_LOGGER);
        assertEquals(METRIC_LOGGER, logger.getName(), "the configuration names Flink's metric logger");
        assertTrue(Level.WARN.isMoreSpecificThan(logger.getLevel()), "collision warnings are not muted wholesale");
        Log4jLogEvent event = Log4jLogEvent.newBuilder().setLoggerName(METRIC_LOGGER).setLevel(Level.WARN)
                .setMessage(new ParameterizedMessage(COLLISION, metric,
                        "[, taskmanager, 4c38, plain, completions-sink: Committer, 1]")).build();
        return logger.getFilter() == null ? Filter.Result.NEUTRAL : logger.getFilter().filter(event);
    }

    private static PropertiesConfiguration load(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return new PropertiesConfigurationFactory().getConfiguration(new LoggerContext("check-" + file),
                    new ConfigurationSource(in, file.toFile()));
        }
    }

    @TempDir
    Path logs;

    @ParameterizedTest
    @ValueSource(strings = {"src/main/resources/log4j2.properties", "../deploy/local/conf/log4j.properties"})
    void onlyFlinksDoubledSinkMetricsAreDropped(String file) throws Exception {
        PropertiesConfiguration config = load(Path.of(file));
        // the local cluster's file appender opens ${sys:log.file}: without it, a file of that literal name
        String previous = System.setProperty("log.file", logs.resolve("check.log").toString());
        try {
            config.initialize();
        } finally {
            if (previous == null) {
                System.clearProperty("log.file");
            } else {
                System.setProperty("log.file", previous);
            }
        }
        assertEquals(Filter.Result.DENY, decide(config, "pendingCommittables"));
        assertEquals(Filter.Result.DENY, decide(config, "currentSendTime"));
        assertFalse(decide(config, "generatedTokensPerSecond") == Filter.Result.DENY,
                "a collision of any other metric (ours among them) still shows");
    }
}
