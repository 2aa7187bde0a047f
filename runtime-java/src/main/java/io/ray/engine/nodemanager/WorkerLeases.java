package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.resources.ResourceLedger;
import io.ray.engine.nodemanager.scheduling.WorkerKey;
import io.ray.engine.nodemanager.workers.WorkerHandle;
import io.ray.engine.nodemanager.workers.WorkerPool;
import io.ray.engine.rpc.TaskSpec;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Workers leased to callers for plain tasks (Ray's worker leases). A caller that submits tasks one
 * at a time asks for a worker of its tasks' shape and pushes them to it itself, so the node is off
 * the path of each task: it only learns of each task (the caller's registration, the worker's
 * report), as for direct actor calls.
 *
 * <p>A lease holds its shape's resources in the {@link ResourceLedger} under the lease's id, for as
 * long as it lasts, and keeps its worker BUSY (out of the idle pool). Tasks registered under it run
 * "on" it: they hold no grant of their own. It ends when the caller returns it (after its running
 * tasks ended), when its worker dies, when its owner leaves or its job ends.
 *
 * <p>Granted only at once (never queued): to an idle worker of the right key, for resources free
 * now, without GPUs (their devices are assigned per task). The scheduler also refuses while tasks
 * wait in its queue, so a lease never takes what a waiting task could use.
 *
 * <p>Threading: owned by the node manager's loop.
 */
final class WorkerLeases {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** One grant of a worker to a caller. */
  static final class Lease {
    final ByteString id;
    final ByteString owner;
    final ByteString jobId;
    final WorkerHandle worker;
    final ResourceSet demand;

    /** Tasks registered under the lease whose end the worker has not reported yet. */
    final LinkedHashSet<TaskRecord> running = new LinkedHashSet<>();

    /** The owner gave it back; it ends when {@link #running} drains. */
    boolean returning;

    Lease(ByteString id, ByteString owner, WorkerHandle worker, ResourceSet demand) {
      this.id = id;
      this.owner = owner;
      this.jobId = worker.jobId;
      this.worker = worker;
      this.demand = demand;
    }
  }

  private final ResourceLedger ledger;
  private final WorkerPool workers;
  private final Map<ByteString, Lease> leases = new HashMap<>();

  WorkerLeases(ResourceLedger ledger, WorkerPool workers) {
    this.ledger = ledger;
    this.workers = workers;
  }

  /** Leases an idle worker of {@code key} for tasks like {@code shape}; null if none can be now. */
  Lease grant(ByteString owner, TaskSpec shape, WorkerKey key) {
    ResourceSet demand = ResourceSet.of(shape.getResourcesMap());
    if (demand.get("GPU") > 0 || shape.getMaxCalls() > 0 || !ledger.fits(demand)) {
      return null;
    }
    WorkerHandle w = workers.idle(key);
    if (w == null) {
      return null;
    }
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    Lease l = new Lease(ByteString.copyFrom(bytes), owner, w, demand);
    if (ledger.grant(l.id, demand) == null) {
      return null;
    }
    w.state = WorkerHandle.State.BUSY;
    w.lease = l.id;
    w.currentTask = null;
    w.blockedDepth = 0;
    leases.put(l.id, l);
    return l;
  }

  /**
   * Registers a pushed task as running on its lease; false (nothing changed) if the lease is gone,
   * returned, not the caller's, or for another shape: the node then runs the task itself.
   */
  boolean attach(TaskRecord r) {
    Lease l = leases.get(r.spec.getLeaseId());
    if (l == null
        || l.returning
        || !l.owner.equals(r.spec.getCallerId())
        || !l.demand.equals(r.demand)
        || !l.worker.key.equals(r.schedulingClass.workerKey())
        || l.worker.state != WorkerHandle.State.BUSY) {
      return false;
    }
    l.running.add(r);
    r.lease = l.id;
    r.worker = l.worker;
    l.worker.currentTask = r.id();
    return true;
  }

  /**
   * A task under a lease ended (reported, retried elsewhere, cancelled or failed). The worker stays
   * leased; a returned lease whose last task ended is released.
   */
  void detach(TaskRecord r) {
    Lease l = r.lease == null ? null : leases.get(r.lease);
    r.lease = null;
    r.worker = null;
    if (l == null) {
      return;
    }
    l.running.remove(r);
    WorkerHandle w = l.worker;
    w.currentTask = l.running.isEmpty() ? null : lastOf(l.running).id();
    if (w.currentTask == null) {
      w.blockedDepth = 0;
    }
    if (l.returning && l.running.isEmpty()) {
      release(l);
    }
  }

  /** The owner gives the lease back (ignored if it is not the owner's or already gone). */
  void giveBack(ByteString owner, ByteString leaseId) {
    Lease l = leases.get(leaseId);
    if (l == null || !l.owner.equals(owner)) {
      return;
    }
    l.returning = true;
    if (l.running.isEmpty()) {
      release(l);
    }
  }

  /** The lease of a worker that died, if any: ended; returns the tasks that ran under it. */
  List<TaskRecord> workerGone(WorkerHandle w) {
    Lease l = w.lease == null ? null : leases.get(w.lease);
    if (l == null) {
      return List.of();
    }
    List<TaskRecord> orphans = new ArrayList<>(l.running);
    for (TaskRecord r : orphans) {
      r.lease = null;
      r.worker = null;
    }
    l.running.clear();
    leases.remove(l.id);
    ledger.release(l.id);
    w.lease = null;
    w.currentTask = null;
    return orphans;
  }

  /** Ends the leases that match (a departed owner's, an ended job's) as if given back. */
  void giveBackAll(Predicate<Lease> which) {
    for (Lease l : new ArrayList<>(leases.values())) {
      if (which.test(l)) {
        giveBack(l.owner, l.id);
      }
    }
  }

  /** The lease id a task's resources are held under: its lease's, else its own. */
  static ByteString grantId(TaskRecord r) {
    return r.lease != null ? r.lease : r.id();
  }

  int size() {
    return leases.size();
  }

  private void release(Lease l) {
    leases.remove(l.id);
    ledger.release(l.id);
    WorkerHandle w = l.worker;
    w.lease = null;
    w.backToPool();
  }

  private static TaskRecord lastOf(LinkedHashSet<TaskRecord> set) {
    TaskRecord last = null;
    for (TaskRecord r : set) {
      last = r;
    }
    return last;
  }
}
