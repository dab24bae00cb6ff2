package io.streaminfer.compute;

/** One rank's keys and values: (layer, slot, position, kv head, head_dim) as its backend lays them out. */
public interface KvCache {
    int slots();

    int positions();

    long bytes();
}
