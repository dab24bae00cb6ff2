package io.streaminfer.job.local;

import io.streaminfer.job.pipeline.SetupFailedException;
import java.util.concurrent.ExecutionException;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.util.SerializedThrowable;

/** Why a job failed, in one line: the cause a user can act on, not Flink's wrappers around it. */
public final class JobFailures {
    private JobFailures() {}

    /** Why {@code job}, which has ended, ended: its failure's cause, or its final status. */
    public static String of(JobClient job) throws InterruptedException {
        try {
            job.getJobExecutionResult().get();
            return "it ended as " + job.getJobStatus().get();
        } catch (ExecutionException e) {
            return describe(e.getCause() == null ? e : e.getCause());
        }
    }

    /**
     * The message of a {@link SetupFailedException} in the chain (also when it arrives as a
     * {@link SerializedThrowable}), else the innermost cause's type and message.
     */
    public static String describe(Throwable failure) {
        Throwable root = failure;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SetupFailedException || (t instanceof SerializedThrowable s
                    && SetupFailedException.class.getName().equals(s.getOriginalErrorClassName()))) {
                return oneLine(t.getMessage());
            }
            root = t;
        }
        String type = root instanceof SerializedThrowable s ? s.getOriginalErrorClassName() : root.getClass().getName();
        return oneLine(type.substring(type.lastIndexOf('.') + 1) + (root.getMessage() == null ? "" : ": " + root.getMessage()));
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}
