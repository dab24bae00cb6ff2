package io.streaminfer.job.local;

import io.streaminfer.job.JobOptions;
import io.streaminfer.job.pipeline.OfflineJob;
import io.streaminfer.job.pipeline.StreamingJob;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Builds the job into an execution environment: a MiniCluster under {@code java -jar}, the cluster's
 * under {@code flink run} (the same main either way).
 */
public final class JobRunner {
    private JobRunner() {}

    /** Whether the options describe offline mode (files) rather than Kafka. */
    public static boolean offline(Configuration conf) {
        return conf.getOptional(JobOptions.INPUT_PATH).isPresent();
    }

    /**
     * Job-level Flink settings: unless the cluster sets one, a failure-rate restart strategy (a long-lived
     * stream survives transient failures, but more than 10 in 5 minutes, a crash loop, fails the job
     * rather than retrying forever), and fixed parallelism in batch mode (the adaptive scheduler would
     * otherwise ignore it).
     */
    public static Configuration flinkSettings(org.apache.flink.configuration.ReadableConfig cluster) {
        Configuration flink = new Configuration();
        if (cluster.getOptional(RestartStrategyOptions.RESTART_STRATEGY).isEmpty()) {
            flink.set(RestartStrategyOptions.RESTART_STRATEGY, "failure-rate");
            flink.set(RestartStrategyOptions.RESTART_STRATEGY_FAILURE_RATE_MAX_FAILURES_PER_INTERVAL, 10);
            flink.set(RestartStrategyOptions.RESTART_STRATEGY_FAILURE_RATE_FAILURE_RATE_INTERVAL, Duration.ofMinutes(5));
            flink.set(RestartStrategyOptions.RESTART_STRATEGY_FAILURE_RATE_DELAY, Duration.ofSeconds(2));
        }
        flink.setString("execution.batch.adaptive.auto-parallelism.enabled", "false");
        return flink;
    }

    /** The environment with the job built into it; {@code env.execute()} runs it. */
    public static StreamExecutionEnvironment build(Configuration conf) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(flinkSettings(env.getConfiguration()));
        build(env, conf);
        return env;
    }

    public static void build(StreamExecutionEnvironment env, Configuration conf) {
        if (offline(conf)) {
            OfflineJob.build(env, conf);
        } else {
            StreamingJob.build(env, conf);
        }
    }

    public static String jobName(Configuration conf) {
        return offline(conf) ? "streaminfer offline " + conf.get(JobOptions.INPUT_PATH)
                : "streaminfer " + conf.get(JobOptions.INPUT_TOPIC) + " -> " + conf.get(JobOptions.OUTPUT_TOPIC);
    }
}
