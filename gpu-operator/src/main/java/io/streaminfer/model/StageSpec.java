package io.streaminfer.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Which layers pipeline stage {@code stage} of {@code stages} holds: the contiguous range
 * {@code [firstLayer, endLayer)}. The first stage also holds the token embedding, the last the final norm
 * and the classifier. All stage arithmetic lives here.
 *
 * <p>{@link #split} balances the stages by the work they hold, not by layer count alone: every layer
 * costs twice its matrix products (see {@link #LAYER_WORK_PER_PRODUCT}), and the last stage also pays the
 * classifier's (vocabulary x dim, as much as 4.6 stories15M layers). Every stage but the last holds at
 * least one layer; the last may hold only the final norm and the classifier when that alone is as much
 * work as the layers of any other stage.
 */
public record StageSpec(int stage, int stages, int firstLayer, int endLayer) {

    public StageSpec {
        if (stages < 1 || stage < 0 || stage >= stages) {
            throw new IllegalArgumentException("stage " + stage + " is outside [0, " + stages + ")");
        }
        boolean classifierOnly = stage == stages - 1 && stages > 1 && endLayer == firstLayer;
        if (firstLayer < 0 || (endLayer <= firstLayer && !classifierOnly)) {
            throw new IllegalArgumentException("stage " + stage + " must hold at least one layer, got ["
                    + firstLayer + ", " + endLayer + ")");
        }
    }

    /** The one stage of an unpipelined model: every layer. */
    public static StageSpec whole(ModelConfig config) {
        return new StageSpec(0, 1, 0, config.numberOfLayers());
    }

    public boolean first() {
        return stage == 0;
    }

    public boolean last() {
        return stage == stages - 1;
    }

    public int layers() {
        return endLayer - firstLayer;
    }

    /** {@code layers 0-2}, for logs. */
    public String describe() {
        if (layers() == 0) {
            return "final norm and classifier only";
        }
        return "layers " + firstLayer + "-" + (endLayer - 1) + (first() ? " + embedding" : "")
                + (last() ? " + final norm and classifier" : "");
    }

    /**
     * Refuses a pipeline degree the model cannot be split into, naming the option and the layer count.
     * Cheap: the CLI calls it before loading anything.
     */
    public static void check(ModelConfig config, int stages) {
        if (stages < 1) {
            throw new IllegalArgumentException("--pp must be >= 1, got " + stages);
        }
        if (stages > config.numberOfLayers()) {
            int layers = config.numberOfLayers();
            throw new IllegalArgumentException("--pp " + stages + " exceeds the model's " + layers
                    + (layers == 1 ? " layer" : " layers") + ": a pipeline has at most one stage per layer");
        }
    }

    /** The stages' contiguous layer ranges, balanced by work, first to last. */
    public static List<StageSpec> split(ModelConfig config, int stages) {
        check(config, stages);
        int layers = config.numberOfLayers();
        List<StageSpec> out = new ArrayList<>();
        if (stages == 1) {
            out.add(whole(config));
            return out;
        }
        double layerCost = layerWork(config);
        double classifierCost = (double) config.vocabularySize() * config.dim();
        // The layers are alike, so a split is the last stage's count plus an even split of the rest.
        int bestLast = 1;
        double bestCost = Double.MAX_VALUE;
        for (int last = 0; last <= layers - (stages - 1); last++) {
            int others = layers - last;
            double cost = Math.max(Math.ceil(others / (double) (stages - 1)) * layerCost,
                    last * layerCost + classifierCost);
            if (cost <= bestCost) {   // on a tie, the more even layer counts
                bestCost = cost;
                bestLast = last;
            }
        }
        int others = layers - bestLast;
        int first = 0;
        for (int s = 0; s < stages - 1; s++) {
            // the earlier stages take the remainder's extra layers
            int count = others / (stages - 1) + (s < others % (stages - 1) ? 1 : 0);
            out.add(new StageSpec(s, stages, first, first + count));
            first += count;
        }
        out.add(new StageSpec(stages - 1, stages, first, layers));
        return out;
    }

    /**
     * The stages holding the given numbers of layers, first to last ({@code --pp-layers 5,1}): the split a
     * user measured to balance better (bench's stage busy column) than {@link #split}'s count of
     * multiply-adds, which sees neither attention's reads of the KV cache nor how fast each product runs. An
     * empty list means {@link #split}. Every stage but the last holds at least one layer; the last may hold
     * none (the final norm and the classifier alone).
     */
    public static List<StageSpec> split(ModelConfig config, int stages, List<Integer> layers) {
        if (layers.isEmpty()) {
            return split(config, stages);
        }
        check(config, stages);
        if (layers.size() != stages) {
            throw new IllegalArgumentException("--pp-layers " + join(layers) + " gives " + layers.size()
                    + " stages, --pp is " + stages);
        }
        int total = layers.stream().mapToInt(Integer::intValue).sum();
        if (total != config.numberOfLayers()) {
            throw new IllegalArgumentException("--pp-layers " + join(layers) + " holds " + total
                    + " layers, the model has " + config.numberOfLayers());
        }
        List<StageSpec> out = new ArrayList<>();
        int first = 0;
        for (int s = 0; s < stages; s++) {
            int count = layers.get(s);
            if (count < (s == stages - 1 && stages > 1 ? 0 : 1)) {
                throw new IllegalArgumentException("--pp-layers " + join(layers) + ": stage " + s + " must hold at"
                        + " least one layer (only the last may hold none, keeping the final norm and classifier alone)");
            }
            out.add(new StageSpec(s, stages, first, first + count));
            first += count;
        }
        return out;
    }

    private static String join(List<Integer> layers) {
        return String.join(",", layers.stream().map(String::valueOf).toList());
    }

    /**
     * A layer's cost against its products' multiply-adds. Its attention streams the KV cache and its norms,
     * rotary and SwiGLU touch every activation, and together they cost about as much again as the products
     * (measured on stories15M at PP=2, 32-row micro-batches, JDK 17: 58 µs per row and layer, of which the
     * products ~30; under JDK 25 the products speed up and the rest does not). The classifier is one large
     * product and costs its multiply-adds. Counting products alone put stories15M's six layers on one stage
     * and its classifier on the other, and the six layers were the busy stage (95-99% against 60-85%).
     */
    static final double LAYER_WORK_PER_PRODUCT = 2.0;

    /** One layer's cost per token: its products' multiply-adds (q, k, v, o, gate, up, down), weighted. */
    static double layerWork(ModelConfig c) {
        return LAYER_WORK_PER_PRODUCT
                * (2.0 * c.dim() * c.queryDim() + 2.0 * c.dim() * c.kvDim() + 3.0 * c.dim() * c.hiddenDim());
    }
}
