package io.streaminfer.job.pipeline;

import io.streaminfer.schemas.CompletionRecord;
import java.util.Locale;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs an offline run's progress every few seconds from each replica: records done out of its share of
 * the total, generated tokens per second and an ETA. Runs chained right after the inference operator, so
 * it reports while the replica works (a separate parallelism-1 step would wait behind a blocking batch
 * exchange).
 */
public final class ProgressReporter extends RichMapFunction<CompletionRecord, CompletionRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger("io.streaminfer.progress");
    private static final long INTERVAL_NANOS = 3_000_000_000L;

    private final long totalRecords;
    private transient long done;
    private transient long tokens;
    private transient long started;
    private transient long lastReport;
    private transient int replica;
    private transient double share;

    public ProgressReporter(long totalRecords) {
        this.totalRecords = totalRecords;
    }

    @Override
    public void open(OpenContext openContext) {
        replica = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        share = totalRecords / (double) getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        started = System.nanoTime();
        lastReport = started;
    }

    @Override
    public CompletionRecord map(CompletionRecord completion) {
        done++;
        tokens += completion.getCompletionTokens();
        long now = System.nanoTime();
        if (now - lastReport >= INTERVAL_NANOS) {
            lastReport = now;
            double seconds = (now - started) / 1e9;
            double rate = done / seconds;
            double remaining = Math.max(0, share - done);
            LOG.info(String.format(Locale.ROOT,
                    "replica %d: %d done of ~%.0f (total input %d), %.1f tok/s, ETA %.0f s", replica, done, share,
                    totalRecords, tokens / seconds, rate > 0 ? remaining / rate : Double.NaN));
        }
        return completion;
    }

    @Override
    public void close() {
        if (done > 0) {
            double seconds = (System.nanoTime() - started) / 1e9;
            LOG.info(String.format(Locale.ROOT, "replica %d: finished %d records, %d tokens in %.1f s (%.1f tok/s)",
                    replica, done, tokens, seconds, tokens / seconds));
        }
    }
}
