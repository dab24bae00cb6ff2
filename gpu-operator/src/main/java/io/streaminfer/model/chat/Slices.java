package io.streaminfer.model.chat;

import java.util.ArrayList;
import java.util.List;

/** Python's {@code seq[start:stop:step]}: which indices a slice takes from a sequence of a given length. */
final class Slices {
    private Slices() {
    }

    /** The indices, in order; {@code null} bounds are omitted ones (e.g. {@code [::-1]} is null, null, -1). */
    static int[] indices(int length, Integer start, Integer stop, Integer step) {
        int by = step == null ? 1 : step;
        if (by == 0) {
            throw new IllegalArgumentException("slice step cannot be zero");
        }
        int from = start == null ? (by > 0 ? 0 : length - 1) : clamp(start, length, by);
        int to = stop == null ? (by > 0 ? length : -1) : clamp(stop, length, by);
        int count = by > 0 ? Math.max(0, (to - from + by - 1) / by) : Math.max(0, (from - to - by - 1) / -by);
        int[] indices = new int[count];
        for (int i = 0; i < count; i++) {
            indices[i] = from + i * by;
        }
        return indices;
    }

    private static int clamp(int bound, int length, int step) {
        if (bound < 0) {
            bound += length;
            if (bound < 0) {
                return step < 0 ? -1 : 0;
            }
            return bound;
        }
        if (bound >= length) {
            return step < 0 ? length - 1 : length;
        }
        return bound;
    }

    /** {@code list[start:stop:step]} as a new list. */
    static List<Object> slice(List<?> list, Integer start, Integer stop, Integer step) {
        int[] indices = indices(list.size(), start, stop, step);
        List<Object> out = new ArrayList<>(indices.length);
        for (int index : indices) {
            out.add(list.get(index));
        }
        return out;
    }
}
