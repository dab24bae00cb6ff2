package io.streaminfer.comm;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A stage link between two threads of this JVM: a ring of {@code max(1, capacity)} message buffers.
 * The sender reserves the next free buffer, copies into it without the lock held, and publishes it; the
 * receiver copies the oldest published one out and frees it. Each buffer grows to the largest message it
 * has carried and is then reused, so a steady pipeline allocates nothing.
 */
final class InProcessStageLink extends AbstractStageLink {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final float[][] buffers;   // (slots) message buffers, grown on demand
    private final int[] lengths;       // (slots) floats each published message holds
    // Guarded by lock. Messages [received, sent) are published; the sender alone advances sent, the
    // receiver alone received.
    private long sent;
    private long received;

    InProcessStageLink(String name, int capacity, CommOptions options, Runnable onClose) {
        super(name, capacity, options, onClose);
        int slots = Math.max(1, capacity);
        this.buffers = new float[slots][];
        this.lengths = new int[slots];
    }

    @Override
    public void send(float[] buf, int offset, int length) {
        Checks.range("link " + name + " send", "buf", buf, offset, length);
        int slot;
        long message;
        lock.lock();
        try {
            checkOpen("send");
            message = sent;
            // room for one more message: at capacity c the sender may be c messages ahead (rendezvous: 1 slot)
            awaitUntil(SENDER, () -> sent - received < buffers.length, "the receiver took no message");
            slot = (int) (message % buffers.length);
        } finally {
            lock.unlock();
        }
        float[] target = buffers[slot];
        if (target == null || target.length < length) {
            target = new float[length];
            buffers[slot] = target;
        }
        System.arraycopy(buf, offset, target, 0, length);
        lock.lock();
        try {
            // a close() since this send began fails it as closing fails a waiting end: with the cause
            throwIfFailed("send");
            lengths[slot] = length;
            sent = message + 1;
            changed.signalAll();
            if (capacity == 0) {
                awaitUntil(SENDER, () -> received > message, "the receiver did not take the message");
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void recv(float[] buf, int offset, int length) {
        Checks.range("link " + name + " recv", "buf", buf, offset, length);
        float[] source;
        long message;
        lock.lock();
        try {
            checkOpen("recv");
            awaitUntil(RECEIVER, () -> sent > received, "nothing arrived from the sender");
            message = received;
            int slot = (int) (message % buffers.length);
            lengthsAgree(lengths[slot], length);
            source = buffers[slot]; // taken under the lock: close() may empty the ring meanwhile
        } finally {
            lock.unlock();
        }
        // The sender does not touch a published buffer until it is received.
        System.arraycopy(source, 0, buf, offset, length);
        lock.lock();
        try {
            received = message + 1;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private interface Ready {
        boolean now();
    }

    /** Under the lock: waits until {@code ready}, failing the link (blaming the other end) after the timeout. */
    private void awaitUntil(int end, Ready ready, String whatDidNotHappen) {
        if (ready.now()) {
            return;
        }
        long start = System.nanoTime();
        try {
            while (!ready.now()) {
                throwIfFailed(end == SENDER ? "send" : "recv");
                long left = timeoutNanos - (System.nanoTime() - start);
                if (left <= 0) {
                    failBecause(1 - end, "link " + name + ": " + whatDidNotHappen + " within " + timeoutText, null);
                    throwIfFailed(end == SENDER ? "send" : "recv");
                }
                changed.await(left, TimeUnit.NANOSECONDS);
            }
            throwIfFailed(end == SENDER ? "send" : "recv");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failBecause(end, "link " + name + ": interrupted while waiting", e);
            throwIfFailed(end == SENDER ? "send" : "recv");
        } finally {
            waited(end, System.nanoTime() - start);
        }
    }

    @Override
    void onFailure() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    void release() {
        lock.lock();
        try {
            java.util.Arrays.fill(buffers, null);
        } finally {
            lock.unlock();
        }
    }
}
