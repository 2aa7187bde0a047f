package io.ray.runtime;

import io.ray.engine.rpc.ClientOps;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A Java client's changes (submissions, puts, reference counts), numbered 1, 2, ... and sent in
 * order on its session stream by one pump thread, so that {@code .remote()} never waits for the
 * network. A read takes the changes not sent yet and carries them itself ({@code
 * GetObjectsRequest.ops}), saving a message and a thread hand-off on {@code task.remote().get()}'s
 * path; the node applies each client's messages in seq order whichever way they come (and drops a
 * repeat), so a read that fails gives them back.
 *
 * <p>Threading: the pump thread alone calls {@code sender}; the queue is guarded by this object.
 */
final class ChangeStream implements AutoCloseable {
  /** What a read carries: the seq to wait for, and the messages not sent yet (in order). */
  record Taken(long seq, List<ClientOps> messages) {}

  private final Consumer<ClientOps> sender;
  private final ArrayDeque<ClientOps> ready = new ArrayDeque<>();
  private final Thread pump;
  private long seq;
  private boolean closed;
  private boolean sending;

  ChangeStream(Consumer<ClientOps> sender) {
    this.sender = sender;
    this.pump = new Thread(this::pump, "ray-changes");
    pump.setDaemon(true);
    pump.start();
  }

  /** Queues a change; returns its seq. */
  synchronized long add(ClientOps.Builder ops) {
    if (closed) {
      return seq;
    }
    seq++;
    ready.add(ops.setSeq(seq).build());
    notifyAll();
    return seq;
  }

  /** The seq of the last change: a read carrying it sees every change before it. */
  synchronized long fence() {
    return seq;
  }

  /** Takes the unsent messages for a read to carry. */
  synchronized Taken take() {
    List<ClientOps> out = new ArrayList<>(ready);
    ready.clear();
    return new Taken(seq, out);
  }

  /** A read that failed gives its messages back (a repeat that did arrive is dropped). */
  synchronized void putBack(List<ClientOps> messages) {
    for (int i = messages.size() - 1; i >= 0; i--) {
      ready.addFirst(messages.get(i));
    }
    notifyAll();
  }

  private void pump() {
    while (true) {
      List<ClientOps> batch;
      synchronized (this) {
        while (ready.isEmpty() && !closed) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (ready.isEmpty()) {
          return;
        }
        batch = new ArrayList<>(ready);
        ready.clear();
        sending = true;
      }
      try {
        batch.forEach(sender);
      } catch (RuntimeException e) {
        return; // the stream is gone: the node notices this client left
      } finally {
        synchronized (this) {
          sending = false;
          notifyAll();
        }
      }
    }
  }

  /**
   * Waits until every change so far is on the stream (a worker reports a task's end only after the
   * changes the task made).
   */
  synchronized void awaitSent() {
    while ((!ready.isEmpty() || sending) && !closed) {
      try {
        wait(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Sends what is left, then stops. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    try {
      pump.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
