package io.ray.engine.nodemanager.scheduling;

import java.util.HashMap;
import java.util.Map;

/**
 * A cap on the running tasks of each scheduling class, as Ray's local task manager has. Up to the
 * cap (as many tasks of the class as the node's CPUs hold at once) tasks start freely; beyond it
 * (possible only while running ones are blocked in ray.get and have lent their CPUs back) one more
 * may start after a back-off that doubles with each extra task. So tasks that block waiting for
 * their children let the children run on the lent CPUs, instead of the node starting a worker for
 * every queued parent, each of which blocks too.
 *
 * <p>Invariant: {@code running(c)} is the number of tasks of {@code c} between {@link #started} and
 * {@link #finished}. Pure state; time is passed in. Owned by the node manager's loop.
 */
public final class ClassCaps {
  public static final long INITIAL_BACKOFF_MS = 1_000;
  public static final long MAX_BACKOFF_MS = 10_000;

  private static final class State {
    int running;
    long nextRaiseAtMs;
  }

  private final double nodeCpus;
  private final Map<SchedulingClass, State> states = new HashMap<>();

  public ClassCaps(double nodeCpus) {
    this.nodeCpus = nodeCpus;
  }

  /** The number of tasks of the class that run at once without back-off. */
  public int cap(SchedulingClass c) {
    double cpus = c.demand().get("CPU");
    double slots = cpus > 0 ? nodeCpus / cpus : nodeCpus;
    return Math.max(1, (int) Math.floor(slots + 1e-9));
  }

  public int running(SchedulingClass c) {
    State s = states.get(c);
    return s == null ? 0 : s.running;
  }

  /** How many more tasks of the class may start at {@code nowMs}. */
  public int allowance(SchedulingClass c, long nowMs) {
    State s = states.get(c);
    int cap = cap(c);
    if (s == null || s.running < cap) {
      return cap - (s == null ? 0 : s.running);
    }
    return nowMs >= s.nextRaiseAtMs ? 1 : 0;
  }

  /** When the allowance of a class at its cap grows again; 0 if it is not at its cap. */
  public long nextRaiseAtMs(SchedulingClass c) {
    State s = states.get(c);
    return s == null || s.running < cap(c) ? 0 : s.nextRaiseAtMs;
  }

  public void started(SchedulingClass c, long nowMs) {
    State s = states.computeIfAbsent(c, k -> new State());
    s.running++;
    int over = s.running - cap(c);
    if (over >= 0) {
      long backoff = INITIAL_BACKOFF_MS << Math.min(over, 20);
      s.nextRaiseAtMs = nowMs + Math.min(MAX_BACKOFF_MS, backoff);
    }
  }

  public void finished(SchedulingClass c) {
    State s = states.get(c);
    if (s == null) {
      throw new IllegalStateException("no running task of " + c);
    }
    if (--s.running == 0) {
      states.remove(c);
    }
  }

  /** Number of classes with running tasks (for tests and leak checks). */
  public int activeClasses() {
    return states.size();
  }
}
