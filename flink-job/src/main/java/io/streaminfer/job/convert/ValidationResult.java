package io.streaminfer.job.convert;

import io.streaminfer.engine.GenerationRequest;
import java.util.Objects;

/**
 * What {@link PromptValidator} made of one PromptRecord: exactly one of a request and a reason.
 *
 * @param request the request to run, or null
 * @param reason why the record cannot run (names the field), or null
 */
public record ValidationResult(GenerationRequest request, String reason) {
    public ValidationResult {
        if ((request == null) == (reason == null)) {
            throw new IllegalArgumentException("exactly one of request and reason must be given");
        }
    }

    public static ValidationResult valid(GenerationRequest request) {
        return new ValidationResult(Objects.requireNonNull(request, "request"), null);
    }

    public static ValidationResult invalid(String reason) {
        return new ValidationResult(null, Objects.requireNonNull(reason, "reason"));
    }

    public boolean isValid() {
        return request != null;
    }
}
