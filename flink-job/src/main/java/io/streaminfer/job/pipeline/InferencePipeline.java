package io.streaminfer.job.pipeline;

import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.job.codec.RecordOrigin;
import io.streaminfer.job.codec.RecordTypes;
import io.streaminfer.job.convert.CompletionConverter;
import io.streaminfer.job.convert.Samples;
import io.streaminfer.operator.InferenceInput;
import io.streaminfer.operator.InferenceOperator;
import io.streaminfer.operator.InferenceOperatorFactory;
import io.streaminfer.operator.InferenceOutput;
import io.streaminfer.operator.InferenceTypes;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.io.IOException;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.types.Either;

/**
 * The part of the job both modes share: validate, key by the record's key (default: its id) so equal
 * keys reach the same replica, run the inference operator with one replica per subtask (parallelism = DP
 * degree), and turn results into completion records; the samples of a prompt asking for n > 1 are fanned
 * out by validation and joined into one completion after inference ({@link SampleFanIn}).
 */
public final class InferencePipeline {

    /** The two outputs: completions, and dead letters (undecodable or invalid input, ids already in flight). */
    public record Outputs(DataStream<CompletionRecord> completions, DataStream<DeadLetterRecord> deadLetters) {}

    private InferencePipeline() {}

    /**
     * The model's facts, read once here on the client from {@code replica}'s checkpoint header and shipped
     * to the subtasks with the job: validation never reopens the checkpoint.
     */
    public static ModelDescription describe(ReplicaConfig replica) {
        try {
            return ModelDescription.load(replica);
        } catch (IOException e) {
            throw new IllegalArgumentException("--model " + replica.modelPath() + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param replica what every subtask's replica starts from
     * @param model the model's facts, read once on the client from {@code replica}'s checkpoint
     * @param maxN the most samples a prompt may ask for ({@code --max-n})
     */
    public static Outputs attach(DataStream<Either<DeadLetterRecord, PromptRecord>> prompts, ReplicaConfig replica,
                                 ModelDescription model, int dataParallelism, int maxN) {
        SingleOutputStreamOperator<InferenceInput> valid = prompts
                .process(new PromptValidation(model, maxN), InferenceTypes.input())
                .name("validate").uid("validate");
        SingleOutputStreamOperator<InferenceOutput> results = valid
                .keyBy(new RoutingKey())
                .transform("inference", InferenceTypes.output(), new InferenceOperatorFactory(new LocalReplicaFactory(replica)))
                .setParallelism(dataParallelism).setMaxParallelism(Math.max(128, dataParallelism))
                .uid("inference");
        DataStream<CompletionRecord> converted = results
                .map(out -> CompletionConverter.toCompletion(out.result(), out.key(), RecordOrigin.strip(out.metadata()), out.modelName(),
                        out.replicaIndex(), out.tensorParallelSize()), RecordTypes.completion())
                .setParallelism(dataParallelism).name("to-completion").uid("to-completion");
        // n = 1 passes straight on; the samples of a prompt with n > 1 meet again, keyed by the prompt's id.
        DataStream<CompletionRecord> singles = converted.filter(c -> !Samples.isSample(c.getMetadata()))
                .setParallelism(dataParallelism).name("single-completions").uid("single-completions");
        DataStream<CompletionRecord> joined = converted.filter(c -> Samples.isSample(c.getMetadata()))
                .setParallelism(dataParallelism).name("sample-completions").uid("sample-completions")
                .keyBy(new SampleFanIn.PromptId())
                .process(new SampleFanIn(), RecordTypes.completion())
                .setParallelism(dataParallelism).setMaxParallelism(Math.max(128, dataParallelism))
                .name("join-samples").uid("join-samples");
        DataStream<CompletionRecord> completions = singles.union(joined);
        DataStream<DeadLetterRecord> duplicates = results.getSideOutput(InferenceOperator.DUPLICATE_IDS)
                .map(new DuplicateIdDeadLetters(replica.modelName()), RecordTypes.deadLetter())
                .setParallelism(dataParallelism).name("duplicate-ids").uid("duplicate-ids");
        return new Outputs(completions, valid.getSideOutput(PromptValidation.DEAD_LETTERS).union(duplicates));
    }

    /** The record's key when it has one, else its id (a sample's: its prompt's id, so samples meet on one replica). */
    static final class RoutingKey implements KeySelector<InferenceInput, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(InferenceInput input) {
            return input.key() != null ? input.key() : Samples.originalId(input.metadata(), input.id());
        }
    }
}
