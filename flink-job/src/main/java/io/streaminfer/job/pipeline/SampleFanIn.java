package io.streaminfer.job.pipeline;

import io.streaminfer.job.codec.RecordTypes;
import io.streaminfer.job.convert.ChoiceMerge;
import io.streaminfer.job.convert.Samples;
import io.streaminfer.schemas.CompletionRecord;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Joins the n sample completions of a prompt that asked for n > 1 into its one completion
 * ({@link ChoiceMerge}), keyed by the prompt's id. The samples seen so far are keyed state (index to Avro
 * completion), so they are checkpointed with the job and a restore neither loses nor repeats one; the
 * state of a prompt is cleared when its last sample arrives. A sample seen twice (the same index) counts
 * once.
 *
 * <p>Known gap: a second record with the id of one whose samples are still running is refused per sample by
 * the operator (one dead letter per sample in flight); if some of the first record's samples had already
 * finished, the second's matching samples run again and wait here for companions that never come.
 */
final class SampleFanIn extends KeyedProcessFunction<String, CompletionRecord, CompletionRecord> {
    private static final long serialVersionUID = 1L;

    private transient MapState<Integer, CompletionRecord> seen;

    @Override
    public void open(OpenContext openContext) {
        seen = getRuntimeContext().getMapState(new MapStateDescriptor<>("samples", Types.INT, RecordTypes.completion()));
    }

    @Override
    public void processElement(CompletionRecord sample, Context ctx, Collector<CompletionRecord> out) throws Exception {
        seen.put(Samples.index(sample.getMetadata()), sample);
        List<CompletionRecord> all = new ArrayList<>();
        for (CompletionRecord s : seen.values()) {
            all.add(s);
        }
        if (all.size() == Samples.count(sample.getMetadata())) {
            out.collect(ChoiceMerge.merge(all));
            seen.clear();
        }
    }

    /** The prompt's id of a sample completion. */
    static final class PromptId implements KeySelector<CompletionRecord, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(CompletionRecord c) {
            return Samples.originalId(c.getMetadata(), c.getId());
        }
    }
}
