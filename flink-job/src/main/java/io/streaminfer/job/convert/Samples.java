package io.streaminfer.job.convert;

import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.SamplingParams;
import io.streaminfer.job.codec.JobMetadata;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a prompt asking for {@code n > 1} samples travels through the job: validation fans it out into n
 * requests before the keyBy, the fan-in after inference joins their completions into one. Sample {@code k}'s
 * request has the id {@code <id>}{@value #SEPARATOR_NAME}{@code k} (the separator is U+001F, which
 * validation refuses in producers' ids, so no producer id can collide with it), the record's routing key
 * (its id when it has none: all samples reach one replica, whose prefix cache shares the prompt's blocks) and
 * the seed {@link SeedDerivation#sampleSeed}. Its metadata carries the original id, the index and n under
 * keys starting with {@value #PREFIX}, which producers may not use and completions do not carry. A prompt
 * with n = 1 runs as it always did: its own id, no sample keys.
 */
public final class Samples {
    /** Metadata keys starting with this are the job's own. */
    public static final String PREFIX = "streaminfer.sample.";
    static final String SEPARATOR_NAME = "U+001F";
    /** Between the record's id and the sample index in a sample's request id; refused in producers' ids. */
    public static final char SEPARATOR = '\u001f';
    private static final String OF = PREFIX + "of";
    private static final String INDEX = PREFIX + "index";
    private static final String COUNT = PREFIX + "n";

    private Samples() {}

    /** One sample of a fanned-out request: the request and the metadata it travels with. */
    public record Sample(GenerationRequest request, Map<String, String> metadata) {}

    /**
     * The n requests of {@code request} (already validated and tokenized once): {@code n == 1} gives the
     * request itself with {@code metadata} unchanged.
     */
    public static List<Sample> fanOut(GenerationRequest request, Map<String, String> metadata, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be >= 1, got " + n);
        }
        Map<String, String> base = metadata == null ? Map.of() : metadata;
        if (n == 1) {
            return List.of(new Sample(request, base));
        }
        List<Sample> out = new ArrayList<>(n);
        SamplingParams p = request.params();
        for (int k = 0; k < n; k++) {
            SamplingParams params = new SamplingParams(p.temperature(), p.topP(), p.topK(), p.maxTokens(),
                    SeedDerivation.sampleSeed(p.seed(), k), p.stop(), p.logprobs());
            GenerationRequest sample = new GenerationRequest(sampleId(request.id(), k), request.prompt(),
                    request.promptTokenIds(), request.target(), params, request.targetTokenIds());
            Map<String, String> tagged = new LinkedHashMap<>(base);
            tagged.put(OF, request.id());
            tagged.put(INDEX, Integer.toString(k));
            tagged.put(COUNT, Integer.toString(n));
            out.add(new Sample(sample, tagged));
        }
        return out;
    }

    /** The request id of sample {@code index} of the record {@code id}. */
    public static String sampleId(String id, int index) {
        return id + SEPARATOR + index;
    }

    /** Whether {@code metadata} is a sample's (of a prompt with n > 1). */
    public static boolean isSample(Map<String, String> metadata) {
        return metadata != null && metadata.containsKey(OF);
    }

    /** The record id a sample belongs to, or {@code fallback} when {@code metadata} is not a sample's. */
    public static String originalId(Map<String, String> metadata, String fallback) {
        String of = metadata == null ? null : metadata.get(OF);
        return of != null ? of : fallback;
    }

    /** The sample's 0-based index (0 when not a sample). */
    public static int index(Map<String, String> metadata) {
        return isSample(metadata) ? Integer.parseInt(metadata.get(INDEX)) : 0;
    }

    /** How many samples the record asked for (1 when not a sample). */
    public static int count(Map<String, String> metadata) {
        return isSample(metadata) ? Integer.parseInt(metadata.get(COUNT)) : 1;
    }

    /** {@code metadata} without the sample keys. */
    public static Map<String, String> strip(Map<String, String> metadata) {
        return JobMetadata.without(metadata, PREFIX);
    }
}
