package io.streaminfer.job.pipeline;

import io.streaminfer.engine.ModelDescription;
import io.streaminfer.engine.ReplicaConfig;
import io.streaminfer.job.JobOptions;
import io.streaminfer.job.codec.AvroKafkaSerializationSchema;
import io.streaminfer.job.codec.PromptKafkaDeserializationSchema;
import io.streaminfer.job.kafka.KafkaProbe;
import io.streaminfer.schemas.CompletionRecord;
import io.streaminfer.schemas.DeadLetterRecord;
import io.streaminfer.schemas.PromptRecord;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * Streaming mode: Avro prompts from Kafka, completions and dead letters back to Kafka through
 * transactions that commit on checkpoints, so a read_committed consumer sees every id exactly once.
 */
public final class StreamingJob {
    /** Within the broker's default transaction.max.timeout.ms (15 min); Flink's 1 h default is refused. */
    private static final String TRANSACTION_TIMEOUT_MS = "600000";

    private StreamingJob() {}

    public static void build(StreamExecutionEnvironment env, Configuration conf) {
        build(env, conf, completions -> completions);
    }

    /**
     * As {@link #build(StreamExecutionEnvironment, Configuration)}, with {@code beforeSink} applied to the
     * completions right before the Kafka sink (tests inject failures there).
     */
    public static void build(StreamExecutionEnvironment env, Configuration conf,
                             UnaryOperator<DataStream<CompletionRecord>> beforeSink) {
        ReplicaConfig replica = EngineSettings.replicaConfig(conf);
        ModelDescription model = InferencePipeline.describe(replica);
        env.enableCheckpointing(conf.get(JobOptions.CHECKPOINT_INTERVAL).toMillis(), CheckpointingMode.EXACTLY_ONCE);
        // While a replica is full the operator waits inside processElement, so an aligned barrier would
        // wait behind the queued prompts and completions would commit late. Unaligned barriers overtake
        // them (the queued records go into the checkpoint), so commits keep their interval under load.
        Configuration checkpoints = new Configuration();
        checkpoints.setString("execution.checkpointing.unaligned.enabled", "true");
        // A cancelled job keeps its last checkpoint (where the cluster has checkpoint storage), so the
        // requests it held can be resumed from it, not only from a savepoint.
        checkpoints.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        env.configure(checkpoints);
        String servers = conf.get(JobOptions.BOOTSTRAP_SERVERS);
        // Unreachable brokers, a refused TLS handshake or a missing topic would fail every restart: ask first.
        KafkaProbe.check(servers, conf.get(JobOptions.KAFKA_PROPERTIES), List.of(conf.get(JobOptions.INPUT_TOPIC),
                conf.get(JobOptions.OUTPUT_TOPIC), conf.get(JobOptions.DEAD_LETTER_TOPIC)));
        Properties kafka = new Properties();
        kafka.putAll(conf.get(JobOptions.KAFKA_PROPERTIES));

        Properties consumer = new Properties();
        consumer.putAll(kafka);
        // Prompts produced transactionally count only once committed.
        consumer.putIfAbsent("isolation.level", "read_committed");
        KafkaSource<Either<DeadLetterRecord, PromptRecord>> source = KafkaSource
                .<Either<DeadLetterRecord, PromptRecord>>builder()
                .setBootstrapServers(servers)
                .setTopics(conf.get(JobOptions.INPUT_TOPIC))
                .setGroupId(conf.get(JobOptions.GROUP_ID))
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new PromptKafkaDeserializationSchema())
                .setProperties(consumer)
                .build();
        DataStream<Either<DeadLetterRecord, PromptRecord>> prompts = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "prompts")
                .uid("prompts-source");

        InferencePipeline.Outputs outputs = InferencePipeline.attach(prompts, replica, model,
                conf.get(JobOptions.DATA_PARALLELISM), conf.get(JobOptions.MAX_N));

        String prefix = conf.get(JobOptions.TRANSACTIONAL_ID_PREFIX);
        beforeSink.apply(outputs.completions()).sinkTo(exactlyOnceSink(servers,
                        AvroKafkaSerializationSchema.completions(conf.get(JobOptions.OUTPUT_TOPIC)),
                        prefix + "-completions", kafka))
                .name("completions-sink").uid("completions-sink");
        outputs.deadLetters().sinkTo(exactlyOnceSink(servers,
                        AvroKafkaSerializationSchema.deadLetters(conf.get(JobOptions.DEAD_LETTER_TOPIC)),
                        prefix + "-dead-letters", kafka))
                .name("dead-letters-sink").uid("dead-letters-sink");
    }

    /** A transactional sink of {@code serializer}'s records whose transactional ids start with {@code idPrefix}. */
    private static <T> KafkaSink<T> exactlyOnceSink(String servers, KafkaRecordSerializationSchema<T> serializer,
                                                    String idPrefix, Properties kafka) {
        return KafkaSink.<T>builder()
                .setBootstrapServers(servers)
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(idPrefix)
                .setKafkaProducerConfig(producerProperties(kafka))
                .build();
    }

    private static Properties producerProperties(Properties kafka) {
        Properties producer = new Properties();
        producer.putAll(kafka);
        producer.putIfAbsent("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS);
        return producer;
    }
}
