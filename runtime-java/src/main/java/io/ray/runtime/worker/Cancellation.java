package io.ray.runtime.worker;

import com.google.protobuf.ByteString;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * {@code ray.cancel} without force, in a Java worker: the thread running the task is interrupted (a
 * task waiting, sleeping or checking {@code Thread.interrupted()} stops), and the task is reported
 * cancelled whatever it did after (its returns hold TaskCancelledError), as a Python worker reports
 * it. A cancel that arrives before its task started makes it not run. Thread-safe.
 */
final class Cancellation {
  /** Cancels remembered for tasks not started yet, at most this many. */
  private static final int MAX_EARLY = 1024;

  private final Map<ByteString, Thread> running = new HashMap<>();
  private final Set<ByteString> cancelled = new HashSet<>();
  private final LinkedHashSet<ByteString> early = new LinkedHashSet<>();

  /** The task starts on this thread; true if it was cancelled already (it must not run). */
  synchronized boolean begin(ByteString taskId) {
    if (early.remove(taskId)) {
      return true;
    }
    running.put(taskId, Thread.currentThread());
    return false;
  }

  /**
   * The task's code ended (its result is not stored yet); true if it was cancelled meanwhile. Later
   * cancels of it do nothing, and an interrupt meant for it is cleared from this thread.
   */
  synchronized boolean end(ByteString taskId) {
    running.remove(taskId);
    if (cancelled.remove(taskId)) {
      Thread.interrupted();
      return true;
    }
    return false;
  }

  /** The node asks to cancel the task. */
  synchronized void cancel(ByteString taskId) {
    Thread thread = running.get(taskId);
    if (thread != null) {
      if (cancelled.add(taskId)) {
        thread.interrupt();
      }
      return;
    }
    early.add(taskId);
    if (early.size() > MAX_EARLY) {
      Iterator<ByteString> oldest = early.iterator();
      oldest.next();
      oldest.remove();
    }
  }
}
