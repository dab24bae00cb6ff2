package io.streaminfer.job.pipeline;

import io.streaminfer.engine.ModelDescription;
import io.streaminfer.job.codec.AvroCodec;
import io.streaminfer.job.codec.DeadLetters;
import io.streaminfer.job.codec.RecordOrigin;
import io.streaminfer.job.codec.RecordTypes;
import io.streaminfer.job.convert.PromptValidator;
import io.streaminfer.job.convert.Samples;
import io.streaminfer.job.convert.ValidationResult;
import io.streaminfer.operator.InferenceInput;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.time.Instant;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Decoded prompts become inference inputs; undecodable bytes (already dead letters) and prompts that fail
 * validation go to the {@link #DEAD_LETTERS} side output with the reason, the input's own bytes and where
 * it came from (the {@link RecordOrigin} its source put in the metadata; a record without one is re-encoded
 * as Avro). Every input record yields exactly one of the two (a record asking for n > 1 samples yields its n
 * requests, {@link Samples#fanOut}). A request keeps its origin in its metadata
 * until the completion, for the operator's late dead letter (an id already in flight).
 *
 * <p>The model's facts come with the function (a {@link ModelDescription} read once on the client); each
 * subtask loads only the tokenizer, in {@link #open}, and tokenizes every prompt once: the request it
 * emits carries the token ids the replica runs.
 */
public final class PromptValidation extends ProcessFunction<Either<DeadLetterRecord, PromptRecord>, InferenceInput> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetterRecord> DEAD_LETTERS = new OutputTag<>("dead-letters", RecordTypes.deadLetter());

    private final ModelDescription model;
    private final int maxN;
    private transient PromptValidator validator;
    private transient AvroCodec<PromptRecord> codec;

    /** @param maxN the most samples a prompt may ask for ({@code --max-n}) */
    public PromptValidation(ModelDescription model, int maxN) {
        this.model = model;
        this.maxN = maxN;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        try {
            validator = new PromptValidator(model, model.loadTokenizer(), maxN);
        } catch (java.io.IOException | RuntimeException e) {
            throw new SetupFailedException("validation cannot load --tokenizer " + model.tokenizerPath(), e);
        }
        codec = new AvroCodec<>(PromptRecord.class);
    }

    @Override
    public void processElement(Either<DeadLetterRecord, PromptRecord> value, Context ctx,
                               Collector<InferenceInput> out) {
        if (value.isLeft()) {
            ctx.output(DEAD_LETTERS, value.left());
            return;
        }
        PromptRecord prompt = value.right();
        ValidationResult result = validator.validate(prompt);
        if (!result.isValid()) {
            RecordOrigin origin = RecordOrigin.of(prompt.getMetadata());
            ctx.output(DEAD_LETTERS, origin != null ? origin.deadLetter(prompt.getId(), result.reason(), Instant.now())
                    : DeadLetters.invalid(prompt.getId(), result.reason(), codec.encode(prompt), Instant.now()));
            return;
        }
        Map<String, String> metadata = prompt.getMetadata() == null ? Map.of() : prompt.getMetadata();
        for (Samples.Sample sample : Samples.fanOut(result.request(), metadata, prompt.getN())) {
            out.collect(new InferenceInput(sample.request(), prompt.getKey(), sample.metadata()));
        }
    }
}
