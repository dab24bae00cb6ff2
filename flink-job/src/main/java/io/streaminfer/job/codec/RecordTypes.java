package io.streaminfer.job.codec;

import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.types.Either;

/** Flink type information for the records, so that they travel with Avro's serializer (not Kryo). */
public final class RecordTypes {
    private RecordTypes() {}

    public static TypeInformation<PromptRecord> prompt() {
        return new AvroTypeInfo<>(PromptRecord.class);
    }

    public static TypeInformation<CompletionRecord> completion() {
        return new AvroTypeInfo<>(CompletionRecord.class);
    }

    public static TypeInformation<DeadLetterRecord> deadLetter() {
        return new AvroTypeInfo<>(DeadLetterRecord.class);
    }

    /** Left: a dead letter; right: a decoded prompt. */
    public static TypeInformation<Either<DeadLetterRecord, PromptRecord>> promptOrDeadLetter() {
        return new EitherTypeInfo<>(deadLetter(), prompt());
    }
}
