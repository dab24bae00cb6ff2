package io.streaminfer.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.engine.BlockingReplica;
import io.streaminfer.engine.GenerationRequest;
import io.streaminfer.engine.GenerationResult;
import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.engine.SamplingParams;
import io.streaminfer.job.Main;
import io.streaminfer.job.TestModels;
import io.streaminfer.job.convert.PromptValidator;
import io.streaminfer.job.convert.ValidationResult;
import io.streaminfer.schemas.PromptRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;

/**
 * A prompt too long for the context gets one answer, in one message, whichever path it takes: the jobs'
 * validation (a dead letter's reason), the generate CLI (its error line), a replica handed the text.
 */
class TooLongPromptTest {
    @Test
    void theJobsTheCliAndTheReplicaRefuseItAlike() throws Exception {
        TestModels.Model files = TestModels.stories260KOrSynthetic();
        String model = files.checkpoint().toString();
        String tokenizer = files.tokenizer().toString();
        String prompt = "Once upon a time ".repeat(200);
        ReplicaConfig config = ReplicaConfig.defaults(model, tokenizer, 1);

        // The description travels to the subtasks as Java serialization ships it; its tokenizer loads there.
        ModelDescription description = InstantiationUtil.clone(ModelDescription.load(config));
        ValidationResult validated = new PromptValidator(description, description.loadTokenizer())
                .validate(PromptRecord.newBuilder().setId("long").setPrompt(prompt).build());
        assertFalse(validated.isValid());
        String reason = validated.reason();
        assertTrue(reason.matches("prompt takes \\d+ tokens, more than the context of 512"), reason);

        picocli.CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute("generate", "--model", model, "--tokenizer", tokenizer, "--prompt", prompt);
        assertEquals(Cli.EXIT_FAILURE, exit);
        assertEquals("streaminfer generate: error: " + reason, err.toString().strip());
        assertEquals("", out.toString());

        try (BlockingReplica replica = new BlockingReplica(config, Duration.ofMinutes(1))) {
            GenerationResult result = replica.runOne(GenerationRequest.ofText("long", prompt, SamplingParams.greedy(4)));
            assertFalse(result.ok());
            assertEquals(reason, result.error());
        }
    }
}
