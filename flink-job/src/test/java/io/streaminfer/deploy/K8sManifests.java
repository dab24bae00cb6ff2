package io.streaminfer.deploy;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Checks that the Kubernetes manifests in deploy/k8s agree with each other: the TaskManager's GPU count
 * equals the job's {@code --tp} x {@code --pp} (a replica's ranks: pipeline stages x TP ranks), the job parallelism equals its {@code --parallelism} (DP), one slot per
 * TaskManager, durable state, savepoint upgrades, Kubernetes HA, and Kafka topics that exist with
 * enough partitions. Returns every problem in words; an empty list means consistent.
 */
final class K8sManifests {

    static final String MAIN_CONTAINER = "flink-main-container";
    static final String GPU = "nvidia.com/gpu";

    private K8sManifests() {}

    /** Finds deploy/k8s from the working directory (flink-job/ under Maven) or one of its parents. */
    static Path k8sDir() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("deploy/k8s");
            if (Files.isRegularFile(candidate.resolve("flinkdeployment.yaml"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("no deploy/k8s/flinkdeployment.yaml above " + Path.of("").toAbsolutePath());
    }

    static List<String> problems(Path flinkDeploymentFile, Path kafkaTopicsFile) throws IOException {
        List<String> problems = new ArrayList<>();
        List<Map<String, Object>> deployments = load(flinkDeploymentFile);
        List<Map<String, Object>> topics = load(kafkaTopicsFile);
        if (deployments.size() != 1 || !"FlinkDeployment".equals(deployments.get(0).get("kind"))) {
            problems.add(flinkDeploymentFile.getFileName() + " must hold exactly one FlinkDeployment");
            return problems;
        }
        Map<String, Object> spec = map(deployments.get(0), "spec");
        Map<String, Object> conf = map(spec, "flinkConfiguration");
        Map<String, Object> job = map(spec, "job");
        List<String> args = new ArrayList<>();
        for (Object a : list(job, "args")) {
            args.add(String.valueOf(a));
        }

        Integer tp = intFlag(args, "--tp", problems);
        Integer pp = flag(args, "--pp") == null ? Integer.valueOf(1) : intFlag(args, "--pp", problems);
        Integer dp = intFlag(args, "--parallelism", problems);
        if (!"1".equals(String.valueOf(conf.get("taskmanager.numberOfTaskSlots")))) {
            problems.add("taskmanager.numberOfTaskSlots must be \"1\" (one DP replica per TaskManager), got "
                    + conf.get("taskmanager.numberOfTaskSlots"));
        }
        if (dp != null) {
            if (!dp.equals(job.get("parallelism"))) {
                problems.add("spec.job.parallelism (" + job.get("parallelism") + ") differs from --parallelism " + dp);
            }
            Object replicas = map(spec, "taskManager").get("replicas");
            if (replicas != null && !dp.equals(replicas)) {
                problems.add("spec.taskManager.replicas (" + replicas + ") differs from --parallelism " + dp);
            }
        }
        if (tp != null && pp != null) {
            checkGpus(spec, tp, pp, problems);
            if (!"cuda".equals(flag(args, "--backend"))) {
                problems.add("GPUs are requested but the job args do not say --backend cuda");
            }
        }
        if (!"savepoint".equals(job.get("upgradeMode"))) {
            problems.add("spec.job.upgradeMode must be savepoint, got " + job.get("upgradeMode"));
        }
        if (!"kubernetes".equals(conf.get("high-availability.type"))) {
            problems.add("high-availability.type must be kubernetes, got " + conf.get("high-availability.type"));
        }
        for (String key : List.of("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir",
                "high-availability.storageDir")) {
            String value = String.valueOf(conf.get(key));
            if (!value.matches("(s3|s3a|s3p|gs|abfss?|hdfs|oss)://.+")) {
                problems.add(key + " must point to durable storage (s3://...), got " + value);
            }
        }
        checkTopics(args, topics, dp, problems);
        return problems;
    }

    private static void checkGpus(Map<String, Object> spec, int tp, int pp, List<String> problems) {
        int gpus = tp * pp;
        String ranks = "--tp " + tp + " x --pp " + pp + " = " + gpus;
        Map<String, Object> podSpec = map(map(map(spec, "taskManager"), "podTemplate"), "spec");
        Map<String, Object> main = null;
        for (Object c : list(podSpec, "containers")) {
            if (c instanceof Map<?, ?> m && MAIN_CONTAINER.equals(m.get("name"))) {
                main = cast(m);
            }
        }
        if (main == null) {
            problems.add("the TaskManager pod template has no container " + MAIN_CONTAINER + " asking for GPUs");
            return;
        }
        Map<String, Object> resources = map(main, "resources");
        Object limit = map(resources, "limits").get(GPU);
        if (limit == null || !String.valueOf(limit).equals(String.valueOf(gpus))) {
            problems.add("TaskManager " + GPU + " limit (" + limit + ") differs from " + ranks);
        }
        Object request = map(resources, "requests").get(GPU);
        if (request != null && !String.valueOf(request).equals(String.valueOf(gpus))) {
            problems.add("TaskManager " + GPU + " request (" + request + ") differs from " + ranks);
        }
    }

    private static void checkTopics(List<String> args, List<Map<String, Object>> topics, Integer dp, List<String> problems) {
        Map<String, Integer> partitions = new HashMap<>();
        for (Map<String, Object> t : topics) {
            if ("KafkaTopic".equals(t.get("kind"))) {
                Object n = map(t, "spec").get("partitions");
                partitions.put(String.valueOf(map(t, "metadata").get("name")), n instanceof Integer i ? i : -1);
            }
        }
        for (String flag : List.of("--input-topic", "--output-topic", "--dead-letter-topic")) {
            String topic = flag(args, flag);
            if (topic == null) {
                problems.add("the job args have no " + flag);
            } else if (!partitions.containsKey(topic)) {
                problems.add("no KafkaTopic named " + topic + " (the job's " + flag + ")");
            }
        }
        String input = flag(args, "--input-topic");
        if (dp != null && input != null && partitions.getOrDefault(input, Integer.MAX_VALUE) < dp) {
            problems.add("topic " + input + " has " + partitions.get(input) + " partitions, fewer than DP " + dp
                    + ": some replicas would get no prompts");
        }
    }

    private static Integer intFlag(List<String> args, String name, List<String> problems) {
        String v = flag(args, name);
        if (v == null) {
            problems.add("the job args have no " + name);
            return null;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < 1) {
                problems.add(name + " must be >= 1, got " + n);
                return null;
            }
            return n;
        } catch (NumberFormatException e) {
            problems.add(name + " must be a whole number, got " + v);
            return null;
        }
    }

    private static String flag(List<String> args, String name) {
        int i = args.lastIndexOf(name);
        return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : null;
    }

    private static List<Map<String, Object>> load(Path file) throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(file)) {
            for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(r)) {
                if (doc instanceof Map<?, ?> m) {
                    docs.add(cast(m));
                } else if (doc != null) {
                    throw new IllegalArgumentException(file + ": a document is not a mapping: " + doc);
                }
            }
        }
        return docs;
    }

    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        Object v = parent.get(key);
        return v instanceof Map<?, ?> m ? cast(m) : Map.of();
    }

    private static List<?> list(Map<String, Object> parent, String key) {
        Object v = parent.get(key);
        return v instanceof List<?> l ? l : List.of();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }
}
