package io.streaminfer.operator;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.InferenceReplica;
import io.streaminfer.engine.RequestProgress;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.testutils.MetricListener;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InferenceMetricsTest {

    private static final String G = InferenceMetrics.GROUP;

    @Test
    void gaugesReadTheReplicaAndResultsUpdateRatesCountersAndHistograms() {
        MetricListener listener = new MetricListener();
        int[] inFlight = {7};
        InferenceMetrics metrics = new InferenceMetrics(listener.getMetricGroup(), new StubReplica(), () -> inFlight[0]);

        assertEquals(3, gauge(listener, InferenceMetrics.RUNNING).getValue());
        assertEquals(5, gauge(listener, InferenceMetrics.WAITING).getValue());
        assertEquals(0.25, gauge(listener, InferenceMetrics.KV_CACHE_USAGE).getValue());
        assertEquals(3 / 8.0, gauge(listener, InferenceMetrics.BATCH_OCCUPANCY).getValue());
        assertEquals(1234L, gauge(listener, InferenceMetrics.STAGE_WAIT).getValue());
        assertEquals(70L, stageBusy(listener, 0).getValue());
        assertEquals(30L, stageBusy(listener, 1).getValue());
        assertTrue(listener.getGauge(G, InferenceMetrics.STAGE_GROUP, "2", InferenceMetrics.STAGE_BUSY).isEmpty(),
                "one gauge per stage");
        inFlight[0] = 9;
        assertEquals(9, gauge(listener, InferenceMetrics.IN_FLIGHT).getValue());

        metrics.onResult(new GenerationResult("a", true, GenerationResult.FinishReason.LENGTH, null, "xy",
                new int[] {1, 2, 3, 4}, new int[] {5, 6}, null, null, 1, 10, 40));
        metrics.onResult(GenerationResult.error("b", "bad", 2));

        assertEquals(1, listener.getCounter(G, InferenceMetrics.COMPLETED).orElseThrow().getCount());
        assertEquals(1, listener.getCounter(G, InferenceMetrics.FAILED).orElseThrow().getCount());
        assertEquals(2, listener.getMeter(G, InferenceMetrics.GENERATED_TOKENS_RATE).orElseThrow().getCount());
        assertEquals(4, listener.getMeter(G, InferenceMetrics.PROMPT_TOKENS_RATE).orElseThrow().getCount());
        var ttft = listener.getHistogram(G, InferenceMetrics.TIME_TO_FIRST_TOKEN).orElseThrow();
        assertEquals(1, ttft.getCount()); // errors have no first token
        assertEquals(10, ttft.getStatistics().getMax());
        var latency = listener.getHistogram(G, InferenceMetrics.LATENCY).orElseThrow();
        assertEquals(2, latency.getCount());
        assertEquals(40, latency.getStatistics().getMax());
        assertEquals(2, latency.getStatistics().getMin());
    }

    private static Gauge<Object> stageBusy(MetricListener listener, int stage) {
        return listener.<Object>getGauge(G, InferenceMetrics.STAGE_GROUP, String.valueOf(stage),
                InferenceMetrics.STAGE_BUSY).orElseThrow(() -> new AssertionError("no busy gauge of stage " + stage));
    }

    private static Gauge<Object> gauge(MetricListener listener, String name) {
        return listener.<Object>getGauge(G, name).orElseThrow(() -> new AssertionError("no gauge " + name));
    }

    /** Fixed numbers for the gauges; nothing else is called. */
    private static final class StubReplica implements InferenceReplica {
        @Override
        public boolean trySubmit(GenerationRequest request, RequestProgress resumeFrom) {
            throw new UnsupportedOperationException();
        }

        @Override
        public RequestProgress progress(String id) {
            return null;
        }

        @Override
        public int running() {
            return 3;
        }

        @Override
        public int waiting() {
            return 5;
        }

        @Override
        public double batchOccupancy() {
            return running() / 8.0;
        }

        @Override
        public double kvCacheUsage() {
            return 0.25;
        }

        @Override
        public long stageWaitMillis() {
            return 1234;
        }

        @Override
        public long[] stageBusyMillis() {
            return new long[] {70, 30};
        }

        @Override
        public String modelName() {
            return "stub";
        }

        @Override
        public int tensorParallelSize() {
            return 1;
        }

        @Override
        public void close() {
        }
    }
}
