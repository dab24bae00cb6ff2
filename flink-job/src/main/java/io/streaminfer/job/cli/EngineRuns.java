package io.streaminfer.job.cli;

import io.streaminfer.compute.Backends;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.job.JobOptions;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;

/** What {@code generate} and {@code bench} share: backend naming, thread defaults, JSON and error text. */
final class EngineRuns {
    private static final ObjectMapper JSON = new ObjectMapper();

    private EngineRuns() {}

    /** Threads per rank that fill the machine's cores without oversubscribing them. */
    static int defaultThreads(int tp) {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / tp);
    }

    /** Refuses a CPU kernel that does not exist, and a backend that cannot run here (no GPU, no library). */
    static void checkKernel(JobOptions.Backend backend, String kernel) {
        if (backend == JobOptions.Backend.CPU && !Backends.NAMES.contains(kernel)) {
            throw new IllegalArgumentException("--kernel '" + kernel + "' is not one of " + Backends.NAMES);
        }
        requireAvailable(backendName(backend, kernel));
    }

    /** A backend that cannot run on this machine is a usage error (exit 2), named in one line. */
    static void requireAvailable(String backendName) {
        try {
            Backends.requireAvailable(backendName);
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The replica's backend name: the CPU kernel, or cuda. */
    static String backendName(JobOptions.Backend backend, String kernel) {
        return backend == JobOptions.Backend.CUDA ? "cuda" : kernel;
    }

    /** One line for an engine failure: its message and the root cause's, no stack trace. */
    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (root != e && root.getMessage() != null && !message.contains(root.getMessage())) {
            message += ": " + root.getMessage();
        }
        return message;
    }

    static String toJson(GenerationResult r, String model) {
        ObjectNode json = JSON.createObjectNode();
        json.put("model", model);
        ArrayNode prompt = json.putArray("prompt_token_ids");
        Arrays.stream(r.promptTokenIds()).forEach(prompt::add);
        ArrayNode tokens = json.putArray("token_ids");
        Arrays.stream(r.tokenIds()).forEach(tokens::add);
        json.put("text", r.text());
        json.put("finish_reason", r.finishReason().wireName());
        json.put("prompt_tokens", r.promptTokenIds().length);
        json.put("completion_tokens", r.tokenIds().length);
        json.put("first_token_ms", r.firstTokenMs());
        json.put("total_ms", r.totalMs());
        return json.toString();
    }
}
