package io.streaminfer.operator;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.ArrayList;
import java.util.List;

/**
 * A test operator that keeps every input, and the output {@link FakeReplica} would give it, in operator list
 * state written by the {@link InferenceTypes} serializers. The InferenceOperator itself stores its in-flight
 * requests as versioned byte arrays; this operator is where a savepoint records those serializers' snapshots,
 * so a restore exercises Flink's own path: it instantiates the snapshot class named in the savepoint, reads
 * the elements with that snapshot's restore serializer and asks the new serializer's snapshot whether the
 * old one is compatible.
 */
final class TypedStateOperator extends AbstractStreamOperator<Void> implements OneInputStreamOperator<InferenceInput, Void> {
    private static final long serialVersionUID = 1L;
    static final String INPUTS = "inputs";
    static final String OUTPUTS = "outputs";

    private transient ListState<InferenceInput> inputs;
    private transient ListState<InferenceOutput> outputs;

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        inputs = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>(INPUTS, InferenceTypes.InputSerializer.INSTANCE));
        outputs = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>(OUTPUTS, InferenceTypes.OutputSerializer.INSTANCE));
    }

    @Override
    public void processElement(StreamRecord<InferenceInput> element) throws Exception {
        InferenceInput in = element.getValue();
        inputs.add(in);
        outputs.add(outputOf(in));
    }

    /** The output kept for {@code in}: its passthrough fields around the fake replica's result, on replica 3. */
    static InferenceOutput outputOf(InferenceInput in) {
        return new InferenceOutput(in.key(), in.metadata(), FakeReplica.resultOf(in.request()), 3, FakeReplica.TP_SIZE,
                FakeReplica.MODEL);
    }

    List<InferenceInput> inputs() throws Exception {
        List<InferenceInput> out = new ArrayList<>();
        inputs.get().forEach(out::add);
        return out;
    }

    List<InferenceOutput> outputs() throws Exception {
        List<InferenceOutput> out = new ArrayList<>();
        outputs.get().forEach(out::add);
        return out;
    }
}
