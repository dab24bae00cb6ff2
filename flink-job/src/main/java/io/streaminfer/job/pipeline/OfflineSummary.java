package io.streaminfer.job.pipeline;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streaminfer.job.codec.JsonLinesCodec;
import io.streaminfer.job.codec.LineSplitter;
import io.streaminfer.job.codec.PlainJson;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.CompletionStatus;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;

/**
 * The account of an offline run, read back from its input and output files once the job has ended: every
 * line read is a completion, an error completion, a dead letter or a blank line, so the four add up to the
 * lines read. When they do not, the lines without an answer are named (a dead letter names its line; a
 * completion its id, matched to the lines with that id).
 *
 * @param missing lines (file:line) that got no answer, when the counts do not add up
 * @param extra ids answered more often than lines carry them
 */
public record OfflineSummary(Path input, Path output, long linesRead, long blankLines, long completions, long errors,
                             long deadLetters, List<String> missing, List<String> extra) {
    private static final int SHOWN = 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GENERATION_FAILED = "generation_failed";

    public boolean addsUp() {
        return linesRead == completions + errors + deadLetters + blankLines;
    }

    /** Reads the input and the output of a finished run. */
    public static OfflineSummary of(Path input, Path output) {
        boolean avro = OfflineJob.isAvro(input);
        List<Path> inputs = OfflineJob.files(input);
        boolean openAi = !avro && OpenAiBatchFiles.isBatchInput(inputs);
        long[] read = {0, 0}; // lines, blank lines
        for (Path file : inputs) {
            forEachInput(file, avro, openAi, false, (line, id) -> {
                read[0]++;
                read[1] += line.blank() ? 1 : 0;
            });
        }
        Map<String, Integer> answeredIds = new HashMap<>();
        long[] done = {0, 0}; // OK, ERROR
        for (Path f : outputs(output.resolve(OfflineJob.COMPLETIONS_DIR))) {
            if (openAi) {
                readOpenAiAnswers(f, done, answeredIds);
                continue;
            }
            if (isAvroFile(f)) {
                readAvro(f, CompletionRecord.class, c -> {
                    done[c.getStatus() == CompletionStatus.OK ? 0 : 1]++;
                    answeredIds.merge(c.getId(), 1, Integer::sum);
                });
                continue;
            }
            forEachJsonLine(f, fields -> {
                done["OK".equals(fields.get("status")) ? 0 : 1]++;
                answeredIds.merge(fields.get("id"), 1, Integer::sum);
            }, "id", "status");
        }
        Set<String> deadLines = new HashSet<>();
        long[] dead = {0};
        for (Path f : outputs(output.resolve(OfflineJob.DEAD_LETTERS_DIR))) {
            if (isAvroFile(f)) {
                readAvro(f, DeadLetterRecord.class, d -> {
                    dead[0]++;
                    if (d.getSourceFile() != null && d.getSourceLine() != null) {
                        deadLines.add(key(Path.of(d.getSourceFile()), d.getSourceLine()));
                    }
                });
                continue;
            }
            forEachJsonLine(f, fields -> {
                dead[0]++;
                if (fields.get("source_file") != null && fields.get("source_line") != null) {
                    deadLines.add(key(Path.of(fields.get("source_file")), Long.parseLong(fields.get("source_line"))));
                }
            }, "source_file", "source_line");
        }
        OfflineSummary counted = new OfflineSummary(input, output, read[0], read[1], done[0], done[1], dead[0],
                List.of(), List.of());
        return counted.addsUp() ? counted : reconcile(counted, inputs, avro, openAi, answeredIds, deadLines);
    }

    /** Which lines lack an answer: those with no dead letter whose id has no completion left to match. */
    private static OfflineSummary reconcile(OfflineSummary counted, List<Path> inputs, boolean avro, boolean openAi,
                                            Map<String, Integer> answeredIds, Set<String> deadLines) {
        List<String> missing = new ArrayList<>();
        for (Path file : inputs) {
            forEachInput(file, avro, openAi, true, (line, id) -> {
                if (line.blank()) {
                    return;
                }
                String where = key(file, line.number());
                if (deadLines.contains(where)) {
                    return;
                }
                Integer left = id == null ? null : answeredIds.get(id);
                if (left != null && left > 0) {
                    answeredIds.put(id, left - 1);
                } else {
                    missing.add(where);
                }
            });
        }
        List<String> extra = answeredIds.entrySet().stream().filter(e -> e.getValue() > 0).map(Map.Entry::getKey)
                .sorted().toList();
        return new OfflineSummary(counted.input, counted.output, counted.linesRead, counted.blankLines, counted.completions,
                counted.errors, counted.deadLetters, missing, extra);
    }

    /** The summary the run prints: the counts, where the files are, and what is missing if anything. */
    public String render() {
        StringBuilder out = new StringBuilder();
        out.append(linesRead).append(avroInput() ? " records" : " lines").append(" read from ").append(input).append(": ")
                .append(completions).append(" completions, ").append(errors).append(" errors, ")
                .append(deadLetters).append(" dead letters, ").append(blankLines).append(" blank lines skipped\n");
        out.append("completions:  ").append(describe(output.resolve(OfflineJob.COMPLETIONS_DIR))).append('\n');
        out.append("dead letters: ").append(describe(output.resolve(OfflineJob.DEAD_LETTERS_DIR))).append('\n');
        if (!addsUp()) {
            long answered = completions + errors + deadLetters + blankLines;
            out.append("the answers do not add up: ").append(answered).append(" for ").append(linesRead).append(" lines");
            if (!missing.isEmpty()) {
                out.append("; no answer for ").append(missing.size()).append(": ")
                        .append(String.join(", ", missing.subList(0, Math.min(SHOWN, missing.size()))))
                        .append(missing.size() > SHOWN ? ", ..." : "");
            }
            if (!extra.isEmpty()) {
                out.append("; ids answered more often than the input has them: ")
                        .append(String.join(", ", extra.subList(0, Math.min(SHOWN, extra.size()))))
                        .append(extra.size() > SHOWN ? ", ..." : "");
            }
            out.append('\n');
        }
        return out.toString();
    }

    private boolean avroInput() {
        return OfflineJob.isAvro(input);
    }

    private static String describe(Path dir) {
        List<Path> files = outputs(dir);
        return files.isEmpty() ? "none" : dir + " (" + files.size() + (files.size() == 1 ? " file)" : " files)");
    }

    /**
     * OpenAI answer lines: a response is a completion, a {@code generation_failed} error an error completion;
     * the {@code invalid_request} lines answer dead letters, which are counted from their own files.
     */
    private static void readOpenAiAnswers(Path file, long[] done, Map<String, Integer> answeredIds) {
        try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
            for (String line : (Iterable<String>) lines::iterator) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode answer = JSON.readTree(line);
                boolean ok = answer.hasNonNull("response");
                if (!ok && !GENERATION_FAILED.equals(answer.path("error").path("code").asText())) {
                    continue;
                }
                done[ok ? 0 : 1]++;
                answeredIds.merge(answer.path("custom_id").asText(), 1, Integer::sum);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the output file " + file + ": " + e.getMessage(), e);
        }
    }

    /** The id of a line: a PromptRecord's {@code id}, an OpenAI request line's {@code custom_id}. */
    private static String idOf(String text, boolean openAi) {
        if (!openAi) {
            return PlainJson.idOf(text);
        }
        try {
            JsonNode id = JSON.readTree(text).get("custom_id");
            return id != null && id.isTextual() ? id.textValue() : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Each line (or Avro record, as a line numbered by its position) of {@code file}, with its id when
     * {@code ids} asks for them (else null: counting needs no parsing).
     */
    private static void forEachInput(Path file, boolean avro, boolean openAi, boolean ids,
                                     java.util.function.BiConsumer<LineSplitter.Line, String> each) {
        try (InputStream in = Files.newInputStream(file)) {
            if (avro) {
                try (DataFileStream<PromptRecord> records = new DataFileStream<>(in, new SpecificDatumReader<>(PromptRecord.class))) {
                    long n = 0;
                    while (records.hasNext()) {
                        PromptRecord p = records.next();
                        each.accept(new LineSplitter.Line(++n, new byte[] {'x'}, 1), p.getId());
                    }
                }
                return;
            }
            LineSplitter lines = new LineSplitter(in, JsonLinesCodec.MAX_LINE_BYTES);
            for (LineSplitter.Line line = lines.next(); line != null; line = lines.next()) {
                each.accept(line, !ids || line.blank() ? null
                        : idOf(new String(line.bytes(), StandardCharsets.UTF_8), openAi));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static boolean isAvroFile(Path file) {
        return file.getFileName().toString().endsWith(".avro");
    }

    private static <T extends SpecificRecord> void readAvro(Path file, Class<T> type, Consumer<T> each) {
        try (DataFileStream<T> records = new DataFileStream<>(Files.newInputStream(file), new SpecificDatumReader<>(type))) {
            records.forEach(each);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the output file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The scalar top-level {@code names} of each line of a JSON Lines output file (null when absent or null),
     * read with the streaming parser: a summary of a million lines must not cost a full parse of each.
     */
    private static void forEachJsonLine(Path file, Consumer<Map<String, String>> each, String... names) {
        Set<String> wanted = Set.of(names);
        try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
            for (String line : (Iterable<String>) lines::iterator) {
                if (line.isBlank()) {
                    continue;
                }
                Map<String, String> fields = new HashMap<>();
                try (JsonParser parser = JSON.createParser(line)) {
                    if (parser.nextToken() != JsonToken.START_OBJECT) {
                        throw new IOException("not a JSON object: " + line);
                    }
                    while (parser.nextToken() == JsonToken.FIELD_NAME) {
                        String name = parser.currentName();
                        JsonToken value = parser.nextToken();
                        if (wanted.contains(name) && value.isScalarValue() && value != JsonToken.VALUE_NULL) {
                            fields.put(name, parser.getText());
                        } else {
                            parser.skipChildren();
                        }
                    }
                }
                each.accept(fields);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the output file " + file + ": " + e.getMessage(), e);
        }
    }

    /** The finished files of an output folder (in-progress files are hidden, as dot-files). */
    private static List<Path> outputs(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static String key(Path file, long line) {
        return file.toAbsolutePath().normalize() + ":" + line;
    }
}
