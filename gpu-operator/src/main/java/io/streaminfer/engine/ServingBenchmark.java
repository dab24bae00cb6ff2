package io.streaminfer.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The whole replica under load (scheduler, paged KV, prefix cache), as a request stream sees it: prompts
 * that start with the same {@code sharedPrefixTokens} tokens, each followed by {@code promptTokens} of its
 * own, all submitted at once (the queue's backpressure paces them), each generating {@code tokens}
 * greedily. Every batch size runs twice, with the prefix cache on and off, on fresh replicas.
 *
 * <p>Prefill tok/s is every prompt position (cached ones included: what the user sees) over the time until
 * the last prompt had its first token; decode tok/s is the tokens generated in the steps that computed no
 * prompt position, over those steps' time (the forward passes and sampling; a cached row starts decoding
 * sooner, so wall-clock phases would compare different batches). Heap and RSS are read when the run starts, when half the prompts are done, and at the end.
 */
public final class ServingBenchmark {
    private static final Duration TIMEOUT = Duration.ofHours(2);

    /**
     * @param prompts prompts per row; 0 means the batch size
     * @param kv KV budget (0: derived) and block size; prefix caching is set per row
     */
    public record Options(String model, List<Integer> batchSizes, int sharedPrefixTokens, int promptTokens,
                          int tokens, int prompts, int tp, int threadsPerRank, String backend, KvCacheSettings kv) {}

    /** One replica run. */
    public record Row(int batch, boolean prefixCache, int prompts, long promptTokens, long generatedTokens,
                      double prefillTokensPerSecond, double decodeTokensPerSecond, int maxRunning,
                      double prefixHitRate, long preemptions, long[] heapBytes, long[] rssBytes, double seconds) {}

    public record Report(Options options, List<Row> rows) {
        public String table() {
            StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                    "model %s: shared prefix %d + %d own prompt tokens, %d generated; TP=%d x %d thread(s); KV %s, "
                            + "blocks of %d%n", options.model(), options.sharedPrefixTokens(), options.promptTokens(),
                    options.tokens(), options.tp(), options.threadsPerRank(), options.kv().memoryBytes() == 0
                            ? "derived" : KvCacheSettings.describeSize(options.kv().memoryBytes()),
                    options.kv().blockSize()));
            out.append(String.format(Locale.ROOT, "%6s %6s %8s %14s %14s %11s %9s %11s %22s %22s%n", "batch", "prefix",
                    "prompts", "prefill tok/s", "decode tok/s", "max running", "hit rate", "preemptions",
                    "heap MiB start/mid/end", "RSS MiB start/mid/end"));
            for (Row r : rows) {
                out.append(String.format(Locale.ROOT, "%6d %6s %8d %14.1f %14.1f %11d %8.1f%% %11d %22s %22s%n",
                        r.batch(), r.prefixCache() ? "on" : "off", r.prompts(), r.prefillTokensPerSecond(),
                        r.decodeTokensPerSecond(), r.maxRunning(), 100 * r.prefixHitRate(), r.preemptions(),
                        mib(r.heapBytes()), mib(r.rssBytes())));
            }
            return out.toString();
        }

        public String json() {
            StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                    "{\"model\":\"%s\",\"shared_prefix_tokens\":%d,\"prompt_tokens\":%d,\"tokens\":%d,\"tp\":%d,"
                            + "\"threads_per_rank\":%d,\"kv_cache_memory\":%d,\"kv_block_size\":%d,\"rows\":[",
                    options.model().replace("\"", "\\\""), options.sharedPrefixTokens(), options.promptTokens(),
                    options.tokens(), options.tp(), options.threadsPerRank(), options.kv().memoryBytes(),
                    options.kv().blockSize()));
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                out.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT,
                        "{\"batch\":%d,\"prefix_cache\":%b,\"prompts\":%d,\"prompt_tokens\":%d,\"generated_tokens\":%d,"
                                + "\"prefill_tokens_per_s\":%.2f,\"decode_tokens_per_s\":%s,\"max_running\":%d,"
                                + "\"prefix_hit_rate\":%.4f,\"preemptions\":%d,\"heap_bytes\":%s,\"rss_bytes\":%s,"
                                + "\"seconds\":%.3f}",
                        r.batch(), r.prefixCache(), r.prompts(), r.promptTokens(), r.generatedTokens(),
                        r.prefillTokensPerSecond(), Double.isNaN(r.decodeTokensPerSecond()) ? "null"
                                : String.format(Locale.ROOT, "%.2f", r.decodeTokensPerSecond()), r.maxRunning(),
                        r.prefixHitRate(), r.preemptions(), array(r.heapBytes()), array(r.rssBytes()), r.seconds()));
            }
            return out.append("]}").toString();
        }

        private static String mib(long[] bytes) {
            StringBuilder b = new StringBuilder();
            for (long v : bytes) {
                b.append(b.length() == 0 ? "" : "/").append(v < 0 ? "?" : String.valueOf(v >> 20));
            }
            return b.toString();
        }

        private static String array(long[] values) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < values.length; i++) {
                b.append(i == 0 ? "" : ",").append(values[i]);
            }
            return b.append(']').toString();
        }
    }

    private ServingBenchmark() {}

    public static Report run(Options options) throws Exception {
        Path model = ModelFiles.resolve(options.model());
        int maxBatch = options.batchSizes().stream().mapToInt(Integer::intValue).max().orElse(1);
        // warm the JIT on a throwaway replica at the largest batch (decode steps of that many rows, prefill
        // chunks), so that neither setting measured first pays for compiling them
        Options warmup = new Options(options.model(), options.batchSizes(), 0, 16, 48, maxBatch, options.tp(),
                options.threadsPerRank(), options.backend(), options.kv().withMemory(0));
        runOne(warmup, model, maxBatch, true, maxBatch, -1);
        List<Row> rows = new ArrayList<>();
        for (int batch : options.batchSizes()) {
            int prompts = options.prompts() == 0 ? batch : options.prompts();
            rows.add(runOne(options, model, batch, true, prompts, 0));
            rows.add(runOne(options, model, batch, false, prompts, 0));
        }
        return new Report(options, rows);
    }

    /** @param salt changes every prompt's tokens (the warm-up's are not those of the measured runs) */
    private static Row runOne(Options options, Path model, int batch, boolean prefixCache, int prompts, int salt)
            throws Exception {
        ReplicaConfig config = new ReplicaConfig(model.toString(), null, ReplicaConfig.modelNameOf(model.toString()),
                options.tp(), options.backend(), options.threadsPerRank(), batch, 0, Math.max(batch, 256),
                Math.max(16, 2 * batch), Duration.ofSeconds(120), ReplicaConfig.Pipeline.NONE,
                options.kv().withPrefixCaching(prefixCache));
        Collector collector = new Collector(prompts);
        long[] heap = new long[3];
        long[] rss = new long[3];
        LocalReplica replica = LocalReplica.start(config, 0, collector);
        try {
            int vocabulary;
            try (io.streaminfer.model.Checkpoint checkpoint = ModelDescription.openCheckpoint(config)) {
                vocabulary = checkpoint.config().vocabularySize();
            }
            if (options.sharedPrefixTokens() + options.promptTokens() + options.tokens() + 1 > replica.contextLength()) {
                throw new IllegalArgumentException("--shared-prefix-tokens + --prompt-tokens + --tokens ("
                        + (options.sharedPrefixTokens() + options.promptTokens() + options.tokens())
                        + ") must leave room in the context of " + replica.contextLength());
            }
            heap[0] = heapUsed();
            rss[0] = rss();
            collector.atHalf = () -> {
                heap[1] = heapUsed();
                rss[1] = rss();
            };
            long start = System.nanoTime();
            for (int i = 0; i < prompts; i++) {
                GenerationRequest request = new GenerationRequest("p" + i, null, prompt(options, i, salt, vocabulary),
                        null, SamplingParams.greedy(options.tokens()));
                while (!replica.trySubmit(request, null)) {
                    Thread.sleep(1);
                    collector.check();
                }
            }
            collector.await();
            double seconds = (System.nanoTime() - start) / 1e9;
            heap[2] = heapUsed();
            rss[2] = rss();
            double prefillSeconds = (collector.lastFirstToken.get() - start) / 1e9;
            long generated = collector.generated.get();
            long promptTokens = (long) prompts * (1 + options.sharedPrefixTokens() + options.promptTokens());
            return new Row(batch, prefixCache, prompts, promptTokens, generated, promptTokens / prefillSeconds,
                    replica.decodeStepTokensPerSecond(),
                    replica.maxRunning(), replica.prefixCacheHitRate(), replica.preemptions(), heap, rss, seconds);
        } finally {
            replica.close();
        }
    }

    /** BOS, the shared prefix, then tokens of prompt i's own. */
    static int[] prompt(Options options, int i, int salt, int vocabulary) {
        int[] p = new int[1 + options.sharedPrefixTokens() + options.promptTokens()];
        p[0] = 1;
        for (int j = 1; j < p.length; j++) {
            long x = j <= options.sharedPrefixTokens() ? 7919L * j + salt * 31L : 104729L * (i + 1) + 31L * j + salt;
            p[j] = 3 + (int) Math.floorMod(x, vocabulary - 3);
        }
        return p;
    }

    /** Live heap: after a collection, so that garbage not yet collected does not count. */
    private static long heapUsed() {
        System.gc();
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    /** The process's resident set from /proc/self/status, or -1 where there is none. */
    private static long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }

    /** Counts results as they come (keeping none of them: memory stays flat however many prompts run). */
    private static final class Collector implements InferenceReplica.Listener {
        final CountDownLatch done;
        final int half;
        final AtomicLong generated = new AtomicLong();
        final AtomicLong firstTokens = new AtomicLong();
        final AtomicLong lastFirstToken = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        volatile Runnable atHalf = () -> {};

        Collector(int prompts) {
            done = new CountDownLatch(prompts);
            half = prompts / 2;
        }

        @Override
        public void onResult(GenerationResult result) {
            if (!result.ok()) {
                failure.compareAndSet(null, new IllegalStateException("request " + result.id() + " failed: "
                        + result.error()));
            } else {
                generated.addAndGet(result.tokenIds().length);
                firstTokens.incrementAndGet();
                // when its first token came: now, less the time it took after that
                long firstToken = System.nanoTime() - (result.totalMs() - result.firstTokenMs()) * 1_000_000L;
                lastFirstToken.accumulateAndGet(firstToken, Math::max);
            }
            done.countDown();
            if (done.getCount() == half) {
                atHalf.run();
            }
        }

        @Override
        public void onFailure(Throwable cause) {
            failure.compareAndSet(null, cause);
            while (done.getCount() > 0) {
                done.countDown();
            }
        }

        void check() {
            if (failure.get() != null) {
                throw new IllegalStateException(failure.get().getMessage(), failure.get());
            }
        }

        void await() throws InterruptedException {
            if (!done.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("results did not arrive within " + TIMEOUT);
            }
            check();
        }
    }
}
