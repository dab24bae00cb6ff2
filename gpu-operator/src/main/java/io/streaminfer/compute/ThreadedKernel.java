package io.streaminfer.compute;

/** A CPU kernel that owns a {@link WorkerGroup}: products and row-wise work share its threads. */
abstract class ThreadedKernel implements MatmulKernel {
    final WorkerGroup workers;
    private final String name;
    private final boolean batchInvariant;

    ThreadedKernel(String name, boolean batchInvariant, int threads) {
        this.workers = new WorkerGroup(name, threads);
        this.name = name;
        this.batchInvariant = batchInvariant;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean batchInvariant() {
        return batchInvariant;
    }

    @Override
    public int parallelism() {
        return workers.parts();
    }

    @Override
    public void parallel(PartTask task) {
        workers.checkOpen();
        workers.run(task::run);
    }

    @Override
    public void close() {
        workers.close();
    }
}
