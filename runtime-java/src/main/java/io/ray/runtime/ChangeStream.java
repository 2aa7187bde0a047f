package io.ray.runtime;

import io.ray.engine.rpc.ClientOps;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A Java client's changes (submissions, puts, reference counts, direct calls' registrations), sent
 * in order on its session stream by one pump thread, so that {@code .remote()} never waits for the
 * network.
 *
 * <p>Changes gather in one open message until it is sealed with the next seq (1, 2, ...): at once
 * for an urgent change (a submission the node must run, a put), after at most {@link #HOLD_NANOS}
 * for the others (a direct call's registration, a forwarded end, a released reference), so a run of
 * direct calls costs the node one message, as Python's outbox does. A read seals the open message
 * and carries it with the unsent ones ({@code GetObjectsRequest.ops}), saving a message and a
 * thread hand-off on {@code task.remote().get()}'s path; the node applies each client's messages in
 * seq order whichever way they come (and drops a repeat), so a read that fails gives them back.
 *
 * <p>Threading: the pump thread alone calls {@code sender}; the state is guarded by this object.
 */
final class ChangeStream implements AutoCloseable {
  /** How long a change that nobody waits for waits for company. */
  static final long HOLD_NANOS = 2_000_000;

  /** What a read carries: the seq to wait for, and the messages not sent yet (in order). */
  record Taken(long seq, List<ClientOps> messages) {}

  private final Consumer<ClientOps> sender;

  /** Sealed messages not sent yet (put back by failed reads, or sealed for the pump). */
  private final ArrayDeque<ClientOps> ready = new ArrayDeque<>();

  private final Thread pump;

  /** Changes not sealed yet: the message seq + 1. */
  private ClientOps.Builder open;

  private long openSince;
  private boolean urgent;
  private long seq;
  private long count;
  private boolean closed;
  private boolean sending;

  ChangeStream(Consumer<ClientOps> sender) {
    this.sender = sender;
    this.pump = new Thread(this::pump, "ray-changes");
    pump.setDaemon(true);
    pump.start();
  }

  /**
   * Adds a change (its actions and reference deltas) to the open message; returns the seq of the
   * message that will hold it.
   */
  synchronized long add(ClientOps.Builder change, boolean urgent) {
    if (closed) {
      return seq;
    }
    boolean first = open == null;
    if (first) {
      open = ClientOps.newBuilder();
      openSince = System.nanoTime();
    }
    open.addAllActions(change.getActionsList()).addAllReferences(change.getReferencesList());
    count++;
    if (urgent && !this.urgent) {
      this.urgent = true;
      notifyAll();
    } else if (first) {
      notifyAll();
    }
    return seq + 1;
  }

  /** Changes added so far (a worker's task that added none may leave its report to its caller). */
  synchronized long count() {
    return count;
  }

  /**
   * The seq of the last change, for a request that does not carry the changes: the open message
   * leaves now.
   */
  synchronized long fence() {
    if (open != null) {
      urgent = true;
      notifyAll();
      return seq + 1;
    }
    return seq;
  }

  /** Takes the unsent messages (the open one sealed) for a read to carry. */
  synchronized Taken take() {
    seal();
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

  /** Seals the open message, if any, behind the sealed ones (caller holds the lock). */
  private void seal() {
    if (open != null) {
      ready.add(open.setSeq(++seq).build());
      open = null;
      urgent = false;
    }
  }

  private void pump() {
    while (true) {
      List<ClientOps> batch;
      synchronized (this) {
        try {
          if (!awaitWork()) {
            return;
          }
        } catch (InterruptedException e) {
          return;
        }
        seal();
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
   * Waits until something must be sent: sealed messages, an urgent change, or an open message that
   * has waited long enough. False once closed with nothing left (caller holds the lock).
   */
  private boolean awaitWork() throws InterruptedException {
    while (true) {
      if (!ready.isEmpty()) {
        return true;
      }
      if (open == null) {
        if (closed) {
          return false;
        }
        wait();
        continue;
      }
      long left = openSince + HOLD_NANOS - System.nanoTime();
      if (urgent || closed || left <= 0) {
        return true;
      }
      wait(left / 1_000_000, (int) (left % 1_000_000));
    }
  }

  /**
   * Waits until every change so far is on the stream (a worker reports a task's end only after the
   * changes the task made).
   */
  synchronized void awaitSent() {
    if (open != null) {
      urgent = true;
      notifyAll();
    }
    while ((open != null || !ready.isEmpty() || sending) && !closed) {
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
