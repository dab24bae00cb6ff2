package io.streaminfer.operator;

import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.InferenceReplica;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import java.util.function.IntSupplier;

/**
 * The operator's metrics, registered under the subgroup {@value #GROUP} of the operator's metric group.
 * Gauges read the thread-safe replica when a reporter asks; the rest is updated on the mailbox thread
 * when a result is emitted.
 *
 * <ul>
 *   <li>{@value #GENERATED_TOKENS_RATE}: generated tokens per second (Meter, 60 s window, counted at completion)</li>
 *   <li>{@value #PROMPT_TOKENS_RATE}: prompt tokens per second (Meter, counted at completion)</li>
 *   <li>{@value #RUNNING}: requests in the replica's running batch (Gauge)</li>
 *   <li>{@value #BATCH_OCCUPANCY}: token rows of the last step over the step's row budget, 0 to 1 (Gauge)</li>
 *   <li>{@value #WAITING}: requests admitted by the replica, not yet running (Gauge)</li>
 *   <li>{@value #IN_FLIGHT}: requests admitted by the operator and not yet emitted (Gauge)</li>
 *   <li>{@value #KV_CACHE_USAGE}: fraction of the replica's KV blocks held by sequences, 0 to 1 (Gauge)</li>
 *   <li>{@value #PREFIX_CACHE_HIT_RATE}: prompt positions found in the prefix cache over all admitted, 0 to 1 (Gauge)</li>
 *   <li>{@value #CACHED_KV_BLOCKS}: KV blocks holding a cached prefix (Gauge)</li>
 *   <li>{@value #FREE_KV_BLOCKS}: KV blocks a new sequence may take, cached ones nobody holds included (Gauge)</li>
 *   <li>{@value #STAGE_WAIT}: ms the replica's ranks have waited for a neighbouring pipeline stage, summed
 *       since start; 0 at PP=1 (Gauge)</li>
 *   <li>{@value #TIME_TO_FIRST_TOKEN}: submission to first token, ms, OK results only (Histogram)</li>
 *   <li>{@value #LATENCY}: submission to completion, ms, all results (Histogram)</li>
 *   <li>{@value #COMPLETED}: results emitted with status OK (Counter)</li>
 *   <li>{@value #FAILED}: results emitted with status ERROR (Counter)</li>
 * </ul>
 */
public final class InferenceMetrics {

    public static final String GROUP = "inference";
    public static final String GENERATED_TOKENS_RATE = "generatedTokensPerSecond";
    public static final String PROMPT_TOKENS_RATE = "promptTokensPerSecond";
    public static final String RUNNING = "runningRequests";
    public static final String WAITING = "waitingRequests";
    public static final String IN_FLIGHT = "inFlightRequests";
    public static final String KV_CACHE_USAGE = "kvCacheUsage";
    public static final String BATCH_OCCUPANCY = "batchOccupancy";
    public static final String PREFIX_CACHE_HIT_RATE = "prefixCacheHitRate";
    public static final String CACHED_KV_BLOCKS = "cachedKvBlocks";
    public static final String FREE_KV_BLOCKS = "freeKvBlocks";
    public static final String STAGE_WAIT = "stageWaitMs";
    /** Subgroup {@code stage <s>} of each pipeline stage (none at PP=1), holding {@link #STAGE_BUSY}. */
    public static final String STAGE_GROUP = "stage";
    public static final String STAGE_BUSY = "busyMs";
    public static final String TIME_TO_FIRST_TOKEN = "timeToFirstTokenMs";
    public static final String LATENCY = "requestLatencyMs";
    public static final String COMPLETED = "requestsCompleted";
    public static final String FAILED = "requestsFailed";

    /** How many recent requests the histograms describe. */
    private static final int HISTOGRAM_WINDOW = 1024;
    private static final int METER_SECONDS = 60;

    private final Meter generatedTokens;
    private final Meter promptTokens;
    private final Histogram timeToFirstToken;
    private final Histogram latency;
    private final Counter completed;
    private final Counter failed;

    public InferenceMetrics(MetricGroup operatorGroup, InferenceReplica replica, IntSupplier inFlight) {
        MetricGroup group = operatorGroup.addGroup(GROUP);
        generatedTokens = group.meter(GENERATED_TOKENS_RATE, new MeterView(METER_SECONDS));
        promptTokens = group.meter(PROMPT_TOKENS_RATE, new MeterView(METER_SECONDS));
        group.gauge(RUNNING, (Gauge<Integer>) replica::running);
        group.gauge(WAITING, (Gauge<Integer>) replica::waiting);
        group.gauge(IN_FLIGHT, (Gauge<Integer>) inFlight::getAsInt);
        group.gauge(KV_CACHE_USAGE, (Gauge<Double>) replica::kvCacheUsage);
        group.gauge(BATCH_OCCUPANCY, (Gauge<Double>) replica::batchOccupancy);
        group.gauge(PREFIX_CACHE_HIT_RATE, (Gauge<Double>) replica::prefixCacheHitRate);
        group.gauge(CACHED_KV_BLOCKS, (Gauge<Integer>) replica::cachedKvBlocks);
        group.gauge(FREE_KV_BLOCKS, (Gauge<Integer>) replica::freeKvBlocks);
        group.gauge(STAGE_WAIT, (Gauge<Long>) replica::stageWaitMillis);
        for (int s = 0; s < replica.stageBusyMillis().length; s++) {
            int stage = s;
            group.addGroup(STAGE_GROUP, String.valueOf(stage)).gauge(STAGE_BUSY,
                    (Gauge<Long>) () -> replica.stageBusyMillis()[stage]);
        }
        timeToFirstToken = group.histogram(TIME_TO_FIRST_TOKEN, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        latency = group.histogram(LATENCY, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        completed = group.counter(COMPLETED);
        failed = group.counter(FAILED);
    }

    /** Records one emitted result. */
    void onResult(GenerationResult result) {
        promptTokens.markEvent(result.promptTokenIds().length);
        generatedTokens.markEvent(result.tokenIds().length);
        latency.update(result.totalMs());
        if (result.ok()) {
            timeToFirstToken.update(result.firstTokenMs());
            completed.inc();
        } else {
            failed.inc();
        }
    }

    long completedCount() {
        return completed.getCount();
    }

    long failedCount() {
        return failed.getCount();
    }
}
