package io.streaminfer.compute;

/** One rank's keys and values: a pool of blocks (see {@link KvGeometry}) as its backend lays them out. */
public interface KvCache {
    KvGeometry geometry();

    long bytes();
}
