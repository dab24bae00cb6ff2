package io.streaminfer.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streaminfer.job.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
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

    private static Path shared(String name) {
        String dir = System.getProperty("streaminfer.shared.models", "../shared/models");
        Path file = Path.of(dir, name);
        Assumptions.assumeTrue(Files.isRegularFile(file), "skipped: " + file + " not found (needs ../shared/models)");
        return file;
    }

    @Test
    void generatePrintsTheSameAtEveryTpDegree() throws Exception {
        Path model = shared("stories260K.bin");
        Path tokenizer = shared("tok512.bin");
        JsonNode tp1 = null;
        for (String tp : new String[] {"1", "2", "4"}) {
            JsonNode out = JSON.readTree(run("generate", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                    "--prompt", "Once upon a time", "--temperature", "0.9", "--seed", "7", "--max-tokens", "40",
                    "--tp", tp, "--json"));
            assertEquals("[1,403,407,261,378]", out.get("prompt_token_ids").toString());
            assertEquals(40, out.get("token_ids").size());
            assertEquals("length", out.get("finish_reason").asText());
            if (tp1 == null) {
                tp1 = out;
            } else {
                assertEquals(tp1.get("token_ids"), out.get("token_ids"), "token ids at --tp " + tp);
                assertEquals(tp1.get("text"), out.get("text"), "text at --tp " + tp);
            }
        }
        String plain = run("generate", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
                "--prompt", "Once upon a time", "--temperature", "0.9", "--seed", "7", "--max-tokens", "40", "--tp", "2");
        assertEquals("Once upon a time" + tp1.get("text").asText(), plain.strip());
    }

    @Test
    void benchReportsThroughputNextToTheMeasuredLimits() throws Exception {
        JsonNode report = JSON.readTree(run("bench", "--model",
                "synthetic:dim=32,hidden=64,layers=2,heads=4,vocab=256,seq_len=64", "--batch-sizes", "1,4",
                "--tokens", "8", "--warmup-tokens", "2", "--prompt-tokens", "4", "--tp", "2", "--threads", "1",
                "--kernels", "vector,openblas", "--json"));
        assertTrue(report.get("sgemm_gflops").asDouble() > 0);
        assertTrue(report.get("bandwidth_gbs").asDouble() > 0);
        assertEquals(4, report.get("rows").size(), "2 kernels x 2 batch sizes");
        for (JsonNode row : report.get("rows")) {
            assertTrue(row.get("decode_tokens_per_s").asDouble() > 0, row.toString());
            assertTrue(row.get("prefill_tokens_per_s").asDouble() > 0, row.toString());
            assertEquals(row.get("batch").asInt() == 1 ? "bandwidth/weights" : "sgemm/flops", row.get("limit").asText());
        }
    }
}
