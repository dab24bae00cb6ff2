package io.streaminfer.operator;

import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.legacy.YieldingOperatorFactory;

import java.util.Objects;

/**
 * Builds {@link InferenceOperator}s and hands them the task's mailbox executor (which Flink injects
 * because this is a {@link YieldingOperatorFactory}). Use it with
 * {@code keyedStream.transform("inference", InferenceTypes.output(), new InferenceOperatorFactory(factory))}.
 */
public final class InferenceOperatorFactory extends AbstractStreamOperatorFactory<InferenceOutput>
        implements OneInputStreamOperatorFactory<InferenceInput, InferenceOutput>,
        YieldingOperatorFactory<InferenceOutput> {

    private static final long serialVersionUID = 1L;
    private final ReplicaFactory replicaFactory;

    public InferenceOperatorFactory(ReplicaFactory replicaFactory) {
        this.replicaFactory = Objects.requireNonNull(replicaFactory, "replicaFactory");
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<InferenceOutput>> T createStreamOperator(
            StreamOperatorParameters<InferenceOutput> parameters) {
        return (T) new InferenceOperator(parameters, replicaFactory, getMailboxExecutor());
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return InferenceOperator.class;
    }
}
