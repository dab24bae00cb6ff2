package io.streaminfer.job.pipeline;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.SamplingParams;
import io.streaminfer.job.codec.AvroCodec;
import io.streaminfer.job.codec.DeadLetters;
import io.streaminfer.job.codec.RecordOrigin;
import io.streaminfer.job.convert.Samples;
import io.streaminfer.operator.InferenceInput;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * Turns a request that arrived while another with the same id was in flight into a dead letter, with the
 * input's own bytes and where it came from (the {@link RecordOrigin} in its metadata). A request without an
 * origin (from another source) is re-encoded as a PromptRecord instead: the same prompt, key, metadata and
 * sampling parameters, with the seed made explicit (the one the request would have used) and without
 * {@code created_at}.
 */
final class DuplicateIdDeadLetters implements MapFunction<InferenceInput, DeadLetterRecord> {
    private static final long serialVersionUID = 1L;

    private final String model;
    private final AvroCodec<PromptRecord> codec = new AvroCodec<>(PromptRecord.class);

    DuplicateIdDeadLetters(String model) {
        this.model = model;
    }

    @Override
    public DeadLetterRecord map(InferenceInput input) {
        String id = Samples.originalId(input.metadata(), input.id());
        String sample = Samples.isSample(input.metadata())
                ? " (sample " + Samples.index(input.metadata()) + " of n = " + Samples.count(input.metadata()) + ")" : "";
        String reason = "request id " + id + sample + " arrived while a request with that id was in flight;"
                + " ids must be unique, and the completion of the one in flight is the answer";
        RecordOrigin origin = RecordOrigin.of(input.metadata());
        return origin != null ? origin.deadLetter(id, reason, Instant.now())
                : DeadLetters.invalid(id, reason, codec.encode(toPromptRecord(input, model)), Instant.now());
    }

    static PromptRecord toPromptRecord(InferenceInput input, String model) {
        GenerationRequest request = input.request();
        SamplingParams params = request.params();
        // The validated request carries the prompt's token ids along with its text: the record had one of them.
        int[] tokenIds = request.prompt() != null ? null : request.promptTokenIds();
        return PromptRecord.newBuilder()
                .setId(Samples.originalId(input.metadata(), request.id()))
                .setKey(input.key())
                .setPrompt(request.prompt())
                .setPromptTokenIds(tokenIds == null ? null : Arrays.stream(tokenIds).boxed().toList())
                .setTarget(request.target())
                .setMaxTokens(params.maxTokens())
                .setTemperature(params.temperature())
                .setTopP(params.topP())
                .setTopK(params.topK())
                .setSeed(params.seed())
                .setStop(params.stop().isEmpty() ? null : List.copyOf(params.stop()))
                .setLogprobs(params.logprobs())
                .setModel(model)
                .setMetadata(Samples.strip(RecordOrigin.strip(input.metadata())))
                .build();
    }
}
