package io.streaminfer.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streaminfer.job.Main;
import io.streaminfer.job.TestModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code generate} and {@code bench} run for real through the CLI. */
class GenerateAndBenchTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String run(String... args) {
        picocli.CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        assertEquals(0, exit, err.toString());
        return out.toString();
    }

    private static String generate(TestModels.Model model, String tp, boolean json) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", model.checkpoint().toString(),
                "--tokenizer", model.tokenizer().toString(), "--prompt", "Once upon a time", "--temperature", "0.9",
                "--seed", "7", "--max-tokens", "40", "--tp", tp));
        if (json) {
            args.add("--json");
        }
        return run(args.toArray(String[]::new));
    }

    /** Any model shows it (the synthetic one without ../shared/models): the TP degree changes nothing printed. */
    @Test
    void generatePrintsTheSameAtEveryTpDegree() throws Exception {
        TestModels.Model model = TestModels.stories260KOrSynthetic();
        JsonNode tp1 = null;
        for (String tp : new String[] {"1", "2", "4"}) {
            JsonNode out = JSON.readTree(generate(model, tp, true));
            assertEquals(40, out.get("token_ids").size());
            assertEquals("length", out.get("finish_reason").asText());
            if (tp1 == null) {
                tp1 = out;
            } else {
                assertEquals(tp1.get("prompt_token_ids"), out.get("prompt_token_ids"), "prompt ids at --tp " + tp);
                assertEquals(tp1.get("token_ids"), out.get("token_ids"), "token ids at --tp " + tp);
                assertEquals(tp1.get("text"), out.get("text"), "text at --tp " + tp);
            }
        }
        String plain = generate(model, "2", false);
        assertEquals("Once upon a time" + tp1.get("text").asText(), plain.strip());
    }

    /** A golden of the real tokenizer: run.c's encode of the prompt with tok512. */
    @Test
    void generateTokenizesThePromptLikeRunC() throws Exception {
        TestModels.Model real = new TestModels.Model(TestModels.requireShared("stories260K.bin"),
                TestModels.requireShared("tok512.bin"), true);
        JsonNode out = JSON.readTree(generate(real, "1", true));
        assertEquals("[1,403,407,261,378]", out.get("prompt_token_ids").toString());
    }

    @Test
    void benchReportsThroughputNextToTheMeasuredLimits() throws Exception {
        JsonNode report = benchJson("--batch-sizes", "1,4", "--tp", "2", "--kernels", "vector,openblas");
        assertTrue(report.get("sgemm_gflops").asDouble() > 0);
        assertTrue(report.get("bandwidth_gbs").asDouble() > 0);
        assertEquals(4, report.get("rows").size(), "2 kernels x 2 batch sizes");
        for (JsonNode row : report.get("rows")) {
            assertTrue(row.get("decode_tokens_per_s").asDouble() > 0, row.toString());
            assertTrue(row.get("prefill_tokens_per_s").asDouble() > 0, row.toString());
            assertEquals(row.get("batch").asInt() == 1 ? "bandwidth/weights" : "sgemm/flops", row.get("limit").asText());
        }
    }

    @Test
    void benchGivesEachPipelineDegreeItsOwnRowsWithEveryStagesBusyShare() throws Exception {
        JsonNode report = benchJson("--batch-sizes", "4", "--pp", "1,2", "--kernels", "vector");
        JsonNode rows = report.get("rows");
        assertEquals(2, rows.size(), "one row per PP degree");
        assertEquals(1, rows.get(0).get("pp").asInt());
        assertEquals(0, rows.get(0).get("stage_busy_share").size(), "no stages at PP=1");
        assertEquals(0.0, rows.get(0).get("stage_wait_share").asDouble());
        JsonNode pp2 = rows.get(1);
        assertEquals(2, pp2.get("pp").asInt());
        assertEquals(2, pp2.get("stage_busy_share").size(), "one share per stage: " + pp2);
        for (JsonNode share : pp2.get("stage_busy_share")) {
            // each stage is one thread, so it cannot compute longer than the decode lasted (the rounds' small
            // gaps aside)
            assertTrue(share.asDouble() > 0 && share.asDouble() <= 1.01, pp2.toString());
        }
    }

    /** A short bench of a tiny synthetic model, one thread per rank, as JSON; {@code flags} add to it. */
    private JsonNode benchJson(String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of("bench", "--model",
                "synthetic:dim=32,hidden=64,layers=2,heads=4,vocab=256,seq_len=64", "--tokens", "8", "--warmup-tokens",
                "2", "--prompt-tokens", "4", "--threads", "1", "--json"));
        args.addAll(List.of(flags));
        return JSON.readTree(run(args.toArray(String[]::new)));
    }
}
