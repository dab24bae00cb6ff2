package io.streaminfer.compute;

/** A CPU kernel that owns a {@link WorkerGroup}: products and row-wise work share its threads. */
abstract class ThreadedKernel implements MatmulKernel {
    final WorkerGroup workers;

    ThreadedKernel(String name, int threads) {
        this.workers = new WorkerGroup(name, threads);
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
