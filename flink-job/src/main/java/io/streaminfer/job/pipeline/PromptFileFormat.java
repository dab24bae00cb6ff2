package io.streaminfer.job.pipeline;

import io.streaminfer.job.codec.AvroCodec;
import io.streaminfer.job.codec.JobMetadata;
import io.streaminfer.job.codec.JsonLinesCodec;
import io.streaminfer.job.codec.LineSplitter;
import io.streaminfer.job.codec.OpenAiBatchRequests;
import io.streaminfer.job.codec.RecordOrigin;
import io.streaminfer.job.codec.RecordTypes;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.io.IOException;
import java.time.Instant;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.impl.StreamFormatAdapter;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.types.Either;

/**
 * Prompt files, read whole (not split), each record knowing its file and 1-based position: JSON Lines
 * ({@link LineSplitter}'s lines, blank ones skipped, each parsed by {@link JsonLinesCodec}, as PromptRecords
 * or as OpenAI batch request lines: a prompt or a dead letter) or Avro container files (the position is the
 * record's number in the file, the original bytes its Avro binary). A per-file stream format under Flink's
 * adapter, because a stream format is not told which file it reads.
 */
final class PromptFileFormat implements BulkFormat<Either<DeadLetterRecord, PromptRecord>, FileSourceSplit> {
    private static final long serialVersionUID = 1L;

    /** What the files hold. */
    enum Kind { JSON_LINES, OPENAI_BATCH, AVRO }

    private final Kind kind;

    PromptFileFormat(Kind kind) {
        this.kind = kind;
    }

    @Override
    public Reader<Either<DeadLetterRecord, PromptRecord>> createReader(Configuration config, FileSourceSplit split)
            throws IOException {
        return adapter(split).createReader(config, split);
    }

    @Override
    public Reader<Either<DeadLetterRecord, PromptRecord>> restoreReader(Configuration config, FileSourceSplit split)
            throws IOException {
        return adapter(split).restoreReader(config, split);
    }

    @Override
    public boolean isSplittable() {
        return false;
    }

    @Override
    public TypeInformation<Either<DeadLetterRecord, PromptRecord>> getProducedType() {
        return RecordTypes.promptOrDeadLetter();
    }

    private StreamFormatAdapter<Either<DeadLetterRecord, PromptRecord>> adapter(FileSourceSplit split) {
        String file = fileName(split.path());
        return new StreamFormatAdapter<>(kind == Kind.AVRO ? new AvroPrompts(file)
                : new JsonLinesPrompts(file, kind == Kind.OPENAI_BATCH));
    }

    /** A local file as its path, anything else as its URI. */
    static String fileName(org.apache.flink.core.fs.Path path) {
        java.net.URI uri = path.toUri();
        return uri.getScheme() == null || "file".equals(uri.getScheme()) ? uri.getPath() : uri.toString();
    }

    /** One JSON Lines file (PromptRecords or OpenAI batch request lines): a prompt or a dead letter per non-blank line. */
    private static final class JsonLinesPrompts extends SimpleStreamFormat<Either<DeadLetterRecord, PromptRecord>> {
        private static final long serialVersionUID = 1L;
        private final String file;
        private final boolean openAi;

        JsonLinesPrompts(String file, boolean openAi) {
            this.file = file;
            this.openAi = openAi;
        }

        @Override
        public StreamFormat.Reader<Either<DeadLetterRecord, PromptRecord>> createReader(Configuration config,
                                                                                        FSDataInputStream stream) {
            LineSplitter lines = new LineSplitter(stream, JsonLinesCodec.MAX_LINE_BYTES);
            JsonLinesCodec codec = new JsonLinesCodec();
            OpenAiBatchRequests requests = openAi ? new OpenAiBatchRequests() : null;
            return new StreamFormat.Reader<>() {
                @Override
                public Either<DeadLetterRecord, PromptRecord> read() throws IOException {
                    for (LineSplitter.Line line = lines.next(); line != null; line = lines.next()) {
                        if (line.blank()) {
                            continue;
                        }
                        long number = line.number();
                        return requests == null ? codec.parsePrompt(line, file)
                                : codec.parse(line, file, text -> requests.parse(text, file, number));
                    }
                    return null;
                }

                @Override
                public void close() throws IOException {
                    stream.close();
                }
            };
        }

        @Override
        public TypeInformation<Either<DeadLetterRecord, PromptRecord>> getProducedType() {
            return RecordTypes.promptOrDeadLetter();
        }
    }

    /** One Avro container file of PromptRecords, each with its record number as its position. */
    private static final class AvroPrompts extends SimpleStreamFormat<Either<DeadLetterRecord, PromptRecord>> {
        private static final long serialVersionUID = 1L;
        private final String file;

        AvroPrompts(String file) {
            this.file = file;
        }

        @Override
        public StreamFormat.Reader<Either<DeadLetterRecord, PromptRecord>> createReader(Configuration config,
                                                                                        FSDataInputStream stream)
                throws IOException {
            DataFileStream<PromptRecord> records = new DataFileStream<>(stream, new SpecificDatumReader<>(PromptRecord.class));
            AvroCodec<PromptRecord> codec = new AvroCodec<>(PromptRecord.class);
            return new StreamFormat.Reader<>() {
                private long number;

                @Override
                public Either<DeadLetterRecord, PromptRecord> read() {
                    if (!records.hasNext()) {
                        return null;
                    }
                    PromptRecord prompt = records.next();
                    number++;
                    RecordOrigin origin = RecordOrigin.ofFile(file, number, codec.encode(prompt));
                    String reserved = JobMetadata.reservedKeyReason(prompt.getMetadata());
                    if (reserved != null) {
                        return Either.Left(origin.deadLetter(prompt.getId(), reserved, Instant.now()));
                    }
                    return Either.Right(origin.attachTo(prompt));
                }

                @Override
                public void close() throws IOException {
                    records.close();
                }
            };
        }

        @Override
        public TypeInformation<Either<DeadLetterRecord, PromptRecord>> getProducedType() {
            return RecordTypes.promptOrDeadLetter();
        }
    }
}
