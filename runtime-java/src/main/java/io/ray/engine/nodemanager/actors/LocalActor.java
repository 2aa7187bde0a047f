package io.ray.engine.nodemanager.actors;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.rpc.TaskSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * An actor hosted on this node: where it is in its life, and the method calls waiting for it. Pure
 * state, no I/O; owned by the node manager's loop. {@code C} is the node manager's record of a
 * call.
 *
 * <p>Ordering: calls from one caller reach the actor in the order they were submitted. Each caller
 * has a FIFO; a call leaves it only when it is at the head and ready (its arguments exist and the
 * actor is alive), so a call waiting for an argument holds back the caller's later calls, never
 * other callers' calls.
 *
 * <p>Invariants: a call is in at most one of {@code waiting} and {@code running}; once DEAD the
 * actor takes no new calls and {@code waiting} and {@code running} are empty.
 */
public final class LocalActor<C> {

  /** Lifecycle, as in Ray. */
  public enum State {
    PENDING_CREATION,
    ALIVE,
    RESTARTING,
    DEAD
  }

  public final ByteString actorId;
  public final ByteString jobId;

  /** Client (driver or worker) that created the actor; it dies with it unless detached. */
  public final ByteString owner;

  /** The creation task, rerun on restart. */
  public final TaskSpec creation;

  /** Resources held while alive (placement resources are released once it is created). */
  public final ResourceSet lifetimeResources;

  private State state = State.PENDING_CREATION;
  private int restartsLeft;
  private boolean restartAllowed = true;
  private String deathCause = "";

  /** Worker hosting the actor while alive, as the node manager names it. */
  private ByteString workerId;

  private final LinkedHashMap<ByteString, ArrayDeque<C>> waiting = new LinkedHashMap<>();
  private final Map<ByteString, C> running = new LinkedHashMap<>();

  public LocalActor(ByteString owner, TaskSpec creation) {
    this.actorId = creation.getActorCreation().getActorId();
    this.jobId = creation.getJobId();
    this.owner = owner;
    this.creation = creation;
    this.lifetimeResources = ResourceSet.of(creation.getActorCreation().getLifetimeResourcesMap());
    this.restartsLeft = creation.getActorCreation().getMaxRestarts();
  }

  public State state() {
    return state;
  }

  public boolean detached() {
    return creation.getActorCreation().getDetached();
  }

  public String className() {
    return creation.getActorCreation().getClassName();
  }

  public String deathCause() {
    return deathCause;
  }

  public ByteString workerId() {
    return workerId;
  }

  /** The creation task finished on {@code worker}: the actor serves calls from now on. */
  public void created(ByteString worker) {
    if (state == State.DEAD) {
      throw new IllegalStateException("a dead actor cannot come alive");
    }
    state = State.ALIVE;
    workerId = worker;
  }

  /** A call to queue for its caller. */
  public void enqueue(ByteString caller, C call) {
    if (state == State.DEAD) {
      throw new IllegalStateException("a dead actor takes no calls");
    }
    waiting.computeIfAbsent(caller, c -> new ArrayDeque<>()).add(call);
  }

  /**
   * Takes the calls that may be sent to the actor now, in order, and marks them running.
   *
   * @param ready whether a call's arguments exist
   * @param idOf the call's task id
   */
  public List<C> takeRunnable(Predicate<C> ready, java.util.function.Function<C, ByteString> idOf) {
    List<C> out = new ArrayList<>();
    if (state != State.ALIVE) {
      return out;
    }
    Iterator<ArrayDeque<C>> queues = waiting.values().iterator();
    while (queues.hasNext()) {
      ArrayDeque<C> q = queues.next();
      while (!q.isEmpty() && ready.test(q.peek())) {
        C call = q.poll();
        running.put(idOf.apply(call), call);
        out.add(call);
      }
      if (q.isEmpty()) {
        queues.remove();
      }
    }
    return out;
  }

  /** Removes a call still waiting in its caller's queue; false if it is not waiting. */
  public boolean cancelWaiting(ByteString caller, C call) {
    ArrayDeque<C> q = waiting.get(caller);
    if (q == null || !q.remove(call)) {
      return false;
    }
    if (q.isEmpty()) {
      waiting.remove(caller);
    }
    return true;
  }

  /** A call its caller pushed to the actor's worker directly: it is running from now on. */
  public void startDirect(ByteString taskId, C call) {
    if (state != State.ALIVE) {
      throw new IllegalStateException("a direct call needs an alive actor");
    }
    running.put(taskId, call);
  }

  /** A running call ended; returns it, or null if it was not running here. */
  public C finished(ByteString taskId) {
    return running.remove(taskId);
  }

  /** Puts a call that was running back at the head of its caller's queue (to retry it). */
  public void requeueFirst(ByteString caller, C call) {
    ArrayDeque<C> q = new ArrayDeque<>();
    q.add(call);
    ArrayDeque<C> old = waiting.remove(caller);
    if (old != null) {
      q.addAll(old);
    }
    waiting.put(caller, q);
  }

  /** The actor may not be restarted any more (ray.kill with no_restart, exit_actor, owner gone). */
  public void forbidRestart() {
    restartAllowed = false;
  }

  /**
   * Its worker died. Returns the calls that were running (the caller retries or fails them). The
   * actor is RESTARTING if it may restart, else DEAD with {@code cause}.
   */
  public List<C> workerDied(String cause) {
    List<C> lost = new ArrayList<>(running.values());
    running.clear();
    workerId = null;
    if (restartAllowed && restartsLeft != 0 && state != State.DEAD) {
      if (restartsLeft > 0) {
        restartsLeft--;
      }
      state = State.RESTARTING;
    } else if (state != State.DEAD) {
      // Dead, but calls still waiting stay for die() to hand out.
      state = State.DEAD;
      deathCause = cause;
    }
    return lost;
  }

  /**
   * Marks the actor dead for good. Returns every call that was still waiting (to fail them);
   * running calls must have been taken with {@link #workerDied} first.
   */
  public List<C> die(String cause) {
    if (state != State.DEAD) {
      state = State.DEAD;
      deathCause = cause;
    }
    workerId = null;
    List<C> out = new ArrayList<>();
    waiting.values().forEach(out::addAll);
    waiting.clear();
    out.addAll(running.values());
    running.clear();
    return out;
  }

  /**
   * Whether any call from {@code caller} waits or runs ({@code callerOf} names a call's caller).
   */
  public boolean hasCallsFrom(
      ByteString caller, java.util.function.Function<C, ByteString> callerOf) {
    if (waiting.containsKey(caller)) {
      return true;
    }
    for (C c : running.values()) {
      if (caller.equals(callerOf.apply(c))) {
        return true;
      }
    }
    return false;
  }

  /** Whether calls are waiting or running. */
  public boolean busy() {
    return !waiting.isEmpty() || !running.isEmpty();
  }
}
