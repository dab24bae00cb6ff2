package io.streaminfer.job.cli;

import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.model.Checkpoint;
import io.streaminfer.model.ModelConfig;
import io.streaminfer.model.ShardSpec;
import io.streaminfer.model.StageSpec;
import io.streaminfer.model.SyntheticCheckpoint;
import java.io.IOException;

/**
 * What every command that runs a model checks before anything starts: the checkpoint's header parses, the
 * TP degree splits it, it has a layer for every pipeline stage, and the tokenizer loads and belongs to it
 * (its vocabulary fits the model's). Each failure is an {@link IllegalArgumentException} naming the flags,
 * which the CLI prints as one line, exit 2.
 */
final class ModelChecks {
    private ModelChecks() {}

    /**
     * @param model a model path (a file or directory that exists)
     * @param tokenizer a tokenizer path, or null for the one the model carries (if any)
     * @return the model's description, its tokenizer checked
     */
    static ModelDescription check(String model, String tokenizer, int tp, int pp) {
        ModelDescription description = checkModel(model, tokenizer, tp, pp);
        checkTokenizer(description, model, tokenizer);
        return description;
    }

    /** As {@link #check} for a {@code synthetic:} description, before its file is written. */
    static ModelConfig checkSynthetic(String description, String tokenizer, int tp, int pp) {
        ModelConfig config = SyntheticCheckpoint.parseDescription(description);
        try {
            ShardSpec.check(config, tp);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tp " + tp + " does not fit --model " + description + ": " + text(e), e);
        }
        StageSpec.check(config, pp);
        checkTokenizer(new ModelDescription("synthetic", config, config.contextLength(), tokenizer), description,
                tokenizer);
        return config;
    }

    private static void checkTokenizer(ModelDescription description, String model, String tokenizer) {
        if (!description.hasTokenizer()) {
            return;
        }
        try {
            description.loadTokenizer();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException((tokenizer == null ? "the tokenizer of --model " + model
                    : "--tokenizer " + tokenizer + " does not fit --model " + model) + ": " + text(e), e);
        }
    }

    /**
     * The header parses, {@code tp} splits the model and it has {@code pp} layers at least (the message of
     * {@link StageSpec#check} names --pp); no weight and no tokenizer is read.
     */
    static ModelDescription checkModel(String model, String tokenizer, int tp, int pp) {
        ReplicaConfig replica = ReplicaConfig.defaults(model, tokenizer, tp);
        Checkpoint checkpoint;
        try {
            checkpoint = ModelDescription.openCheckpoint(replica);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("--model " + model + ": " + text(e), e);
        }
        ModelDescription description;
        try (checkpoint) {
            ShardSpec.check(checkpoint, tp);
            description = ModelDescription.of(replica, checkpoint.config());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tp " + tp + " does not fit --model " + model + ": " + text(e), e);
        }
        StageSpec.check(description.config(), pp);
        return description;
    }

    private static String text(Exception e) {
        return Cli.oneLine(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
}
