package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.exception.RayException;
import io.ray.engine.common.ClusterToken;
import io.ray.engine.common.Ids;
import io.ray.engine.rpc.ClientAction;
import io.ray.engine.rpc.DirectCallFailed;
import io.ray.engine.rpc.DirectFinished;
import io.ray.engine.rpc.GetActorAddressReply;
import io.ray.engine.rpc.GetActorAddressRequest;
import io.ray.engine.rpc.Language;
import io.ray.engine.rpc.LeaseWorkerReply;
import io.ray.engine.rpc.LeaseWorkerRequest;
import io.ray.engine.rpc.NodeManagerServiceGrpc.NodeManagerServiceBlockingStub;
import io.ray.engine.rpc.ObjectValue;
import io.ray.engine.rpc.PushTaskReply;
import io.ray.engine.rpc.PushTaskRequest;
import io.ray.engine.rpc.ReturnLease;
import io.ray.engine.rpc.TaskArg;
import io.ray.engine.rpc.TaskFinished;
import io.ray.engine.rpc.TaskSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A Java process's direct calls (docs/architecture.md, "Ownership and direct calls"), as Python's
 * {@code direct.py}: Java actor calls pushed to the actor's worker, and Java tasks pushed to a
 * worker leased from the node; the worker answers the caller, and the node learns of each call from
 * the caller's registration (on its change stream, not urgent) and of its end from the worker or,
 * forwarded, from the caller.
 *
 * <p>The rules are Python's: a caller's calls to an actor take one path at a time (they are pushed
 * only once the node, asked with {@code GetActorAddress} after this process's changes, says the
 * actor is alive and none of our calls to it is unfinished there); an ordered actor gets one push
 * in flight (calls made meanwhile share the next push), a concurrent one up to its max concurrency;
 * a route or a lease is taken only while no other push is in flight, so a batch spreads over the
 * node's CPUs; a failed push sends the caller back to the node, which retries or fails the calls it
 * registered; an idle lease goes back after {@link #LEASE_IDLE_NANOS}.
 *
 * <p>Threading: callers' threads submit (a lookup or a lease request blocks the submitting thread
 * only); answers arrive on the push streams' event loops; a reaper thread gives idle leases back.
 * State is guarded by {@code lock}; pushes are sent outside it.
 */
final class DirectCalls implements AutoCloseable {
  /** After the node said "not yet", how long calls keep the node path before asking again. */
  static final long RETRY_NANOS = 50_000_000;

  /** A lease with nothing in flight for this long goes back to the node. */
  static final long LEASE_IDLE_NANOS = 10_000_000;

  private final ClientCore core;
  private final NodeManagerServiceBlockingStub node;
  private final ClusterToken token;
  private final Object lock = new Object();
  private final Map<ByteString, Route> routes = new HashMap<>();
  private final Map<ByteString, Pending> pending = new HashMap<>();
  private final Map<String, PushStream> streams = new HashMap<>();
  private final Map<LeaseKey, Lease> leases = new HashMap<>();
  private final Map<LeaseKey, Long> leaseRetryAt = new HashMap<>();
  private int pushesInFlight;
  private boolean closed;
  private Thread reaper;

  DirectCalls(ClientCore core, NodeManagerServiceBlockingStub node, ClusterToken token) {
    this.core = core;
    this.node = node;
    this.token = token;
  }

  /** A registered call: its spec, the seq of the message registering it, its answer. */
  private record Call(TaskSpec spec, long seq, ByteString returnId, Pending pending) {}

  /** The return of a pushed call until its answer is in. */
  private static final class Pending {
    final CountDownLatch done = new CountDownLatch(1);
    boolean forgotten;
  }

  /** How this process reaches one actor. */
  private static final class Route {
    PushStream push; // the stream to the actor's worker, once direct
    ByteString workerId = ByteString.EMPTY;
    long retryAt; // while on the node path: when to ask the node again
    int inFlight;
    List<Call> queued = new ArrayList<>();
  }

  /** Tasks of one shape share a lease. */
  private record LeaseKey(Map<String, Double> resources, String envHash, Language language) {}

  private static final class Lease {
    final ByteString id;
    final PushStream push;
    boolean busy = true;
    long idleSince;

    Lease(ByteString id, PushStream push) {
      this.id = id;
      this.push = push;
    }
  }

  // ---------------------------------------------------------------- actor calls

  /** Pushes an actor call to its worker; false if it must go through the node. */
  boolean submitActor(TaskSpec.Builder spec, int concurrency) {
    ByteString actorId = spec.getActorTask().getActorId();
    Route route = directRoute(actorId);
    if (route == null) {
      return false;
    }
    PushStream stream;
    List<Call> batch;
    synchronized (lock) {
      stream = route.push;
      if (stream == null || closed) {
        return false;
      }
      route.queued.add(register(spec.setPushedTo(route.workerId)));
      if (route.inFlight >= Math.max(1, concurrency)) {
        return true; // goes with the next push, when one in flight is answered
      }
      batch = takeBatch(route);
    }
    send(route, stream, batch);
    return true;
  }

  /** Calls to the actor take the node path until the node says it is reachable again. */
  void stopPushing(ByteString actorId) {
    synchronized (lock) {
      Route route = routes.get(actorId);
      if (route != null) {
        route.push = null;
        route.retryAt = System.nanoTime() + RETRY_NANOS;
      }
    }
  }

  /** The actor's route if its calls may be pushed now, else null (use the node). */
  private Route directRoute(ByteString actorId) {
    Route route;
    synchronized (lock) {
      if (closed) {
        return null;
      }
      route = routes.computeIfAbsent(actorId, k -> new Route());
      if (route.push != null) {
        if (route.push.alive()) {
          return route;
        }
        route.push = null;
      }
      long now = System.nanoTime();
      if (now < route.retryAt || pushesInFlight > 0) {
        return null; // a fan-out over many actors goes through the node: one message for all
      }
      route.retryAt = now + RETRY_NANOS;
    }
    ChangeStream.Taken taken = core.takeChanges();
    GetActorAddressReply reply;
    try {
      reply =
          node.getActorAddress(
              GetActorAddressRequest.newBuilder()
                  .setClientId(core.clientId)
                  .setActorId(actorId)
                  .setAfterSeq(taken.seq())
                  .addAllOps(taken.messages())
                  .build());
    } catch (RuntimeException e) {
      core.putBackChanges(taken);
      return null;
    }
    if (reply.getAddress().isEmpty()) {
      return null;
    }
    synchronized (lock) {
      if (closed || !route.queued.isEmpty() || route.inFlight > 0) {
        return null; // an earlier push is failing over to the node: follow it
      }
      route.push = stream(reply.getAddress());
      route.workerId = reply.getWorkerId();
      return route;
    }
  }

  private void send(Route route, PushStream stream, List<Call> batch) {
    if (batch.isEmpty()) {
      return;
    }
    PushTaskRequest.Builder request =
        PushTaskRequest.newBuilder()
            .setOwnerId(core.clientId)
            .setOwnerSeq(batch.get(batch.size() - 1).seq());
    batch.forEach(c -> request.addSpecs(c.spec()));
    stream.push(request, (reply, failure) -> answered(route, stream, batch, reply, failure));
  }

  /** On a stream's event loop: a push to an actor was answered (or failed). */
  private void answered(
      Route route, PushStream stream, List<Call> batch, PushTaskReply reply, Throwable failure) {
    List<TaskFinished> results = failure == null ? reply.getResultsList() : List.of();
    List<Call> failedOver = List.of();
    List<Call> next = List.of();
    synchronized (lock) {
      settle(batch, results);
      route.inFlight--;
      if (failure != null || results.size() < batch.size()) {
        // The worker is gone or stopped taking calls (its actor ended): this and the queued
        // calls are the node's to finish (it registered them); new calls take the node path
        // until it says the actor is reachable again.
        if (route.push == stream) {
          route.push = null;
          route.retryAt = System.nanoTime() + RETRY_NANOS;
        }
        failedOver = route.queued;
        route.queued = new ArrayList<>();
        failedOver.forEach(c -> pending.remove(c.returnId()));
      } else {
        next = takeBatch(route);
      }
    }
    forward(reply, results);
    batch.forEach(c -> c.pending().done.countDown());
    failedOver.forEach(c -> c.pending().done.countDown());
    if (failure != null && !PushStream.workerGone(failure)) {
      // The worker is alive but did not take the calls: the node fails them.
      failed(batch, failure);
      failed(failedOver, failure);
    }
    send(route, stream, next);
  }

  private List<Call> takeBatch(Route route) {
    List<Call> batch = route.queued;
    route.queued = new ArrayList<>();
    if (!batch.isEmpty()) {
      route.inFlight++;
      pushesInFlight++;
    }
    return batch;
  }

  // ---------------------------------------------------------------- leased workers

  /** Pushes a Java task to a leased worker; false if it must go through the node. */
  boolean submitTask(TaskSpec.Builder spec) {
    if (spec.getMaxCalls() > 0
        || spec.getRetryExceptions()
        || spec.getResourcesOrDefault("GPU", 0.0) > 0
        || spec.hasSchedulingStrategy()
        || spec.getFunction().getLanguage() != Language.JAVA) {
      return false; // a worker per call, retries, devices or a node: the node decides
    }
    for (TaskArg arg : spec.getArgsList()) {
      if (arg.hasObjectId()) {
        return false; // the node resolves (and waits for) arguments by reference
      }
    }
    LeaseKey key =
        new LeaseKey(
            new TreeMap<>(spec.getResourcesMap()),
            spec.getRuntimeEnv().getHash(),
            spec.getFunction().getLanguage());
    Lease lease;
    synchronized (lock) {
      if (closed) {
        return false;
      }
      lease = leases.get(key);
      if (lease != null) {
        if (lease.busy) {
          return false; // the node spreads the rest of a batch over its CPUs
        }
        lease.busy = true;
      } else if (pushesInFlight > 0 || System.nanoTime() < leaseRetryAt.getOrDefault(key, 0L)) {
        return false;
      }
    }
    if (lease == null && (lease = lease(key, spec)) == null) {
      return false;
    }
    Call call;
    synchronized (lock) {
      call = register(spec.setLeaseId(lease.id));
      pushesInFlight++;
    }
    Lease l = lease;
    l.push.push(
        PushTaskRequest.newBuilder()
            .addSpecs(call.spec())
            .setOwnerId(core.clientId)
            .setOwnerSeq(call.seq()),
        (reply, failure) -> taskAnswered(key, l, call, reply, failure));
    return true;
  }

  private Lease lease(LeaseKey key, TaskSpec.Builder spec) {
    TaskSpec shape =
        TaskSpec.newBuilder()
            .setJobId(spec.getJobId())
            .setCallerId(spec.getCallerId())
            .setFunction(spec.getFunction())
            .putAllResources(spec.getResourcesMap())
            .setRuntimeEnv(spec.getRuntimeEnv())
            .build();
    ChangeStream.Taken taken = core.takeChanges();
    LeaseWorkerReply reply;
    try {
      reply =
          node.leaseWorker(
              LeaseWorkerRequest.newBuilder()
                  .setClientId(core.clientId)
                  .setAfterSeq(taken.seq())
                  .setShape(shape)
                  .addAllOps(taken.messages())
                  .build());
    } catch (RuntimeException e) {
      core.putBackChanges(taken);
      return null;
    }
    if (reply.getLeaseId().isEmpty() || reply.getAddress().isEmpty()) {
      synchronized (lock) {
        leaseRetryAt.put(key, System.nanoTime() + RETRY_NANOS);
      }
      if (!reply.getLeaseId().isEmpty()) {
        returnLease(reply.getLeaseId());
      }
      return null;
    }
    Lease lease = null;
    synchronized (lock) {
      if (!closed && !leases.containsKey(key)) {
        lease = new Lease(reply.getLeaseId(), stream(reply.getAddress()));
        leases.put(key, lease);
        if (reaper == null) {
          reaper = new Thread(this::reap, "ray-leases");
          reaper.setDaemon(true);
          reaper.start();
        }
        lock.notifyAll();
      }
    }
    if (lease == null) {
      returnLease(reply.getLeaseId()); // closing, or another thread leased one meanwhile
    }
    return lease;
  }

  /** On a stream's event loop: a leased task was answered; the lease is free again, or gone. */
  private void taskAnswered(
      LeaseKey key, Lease lease, Call call, PushTaskReply reply, Throwable failure) {
    List<TaskFinished> results = failure == null ? reply.getResultsList() : List.of();
    boolean lost;
    synchronized (lock) {
      settle(List.of(call), results);
      lost = results.isEmpty();
      if (lost) {
        // The worker is gone or stopped taking tasks: the node, which registered the task as
        // running there, retries or fails it; the lease is given back.
        leases.remove(key, lease);
      } else {
        lease.busy = false;
        lease.idleSince = System.nanoTime();
      }
    }
    forward(reply, results);
    call.pending().done.countDown();
    if (lost) {
      if (failure != null && !PushStream.workerGone(failure)) {
        failed(List.of(call), failure);
      }
      returnLease(lease.id);
    }
  }

  /** Gives back leases idle for LEASE_IDLE_NANOS (the reaper thread's loop). */
  private void reap() {
    while (true) {
      List<Lease> expired = new ArrayList<>();
      synchronized (lock) {
        if (closed) {
          return;
        }
        long now = System.nanoTime();
        leases
            .values()
            .removeIf(
                l -> {
                  boolean idle = !l.busy && now - l.idleSince >= LEASE_IDLE_NANOS;
                  if (idle) {
                    expired.add(l);
                  }
                  return idle;
                });
        if (expired.isEmpty()) {
          try {
            // While leases are held, look again every LEASE_IDLE_NANOS (no wake-up per task).
            lock.wait(leases.isEmpty() ? 0 : LEASE_IDLE_NANOS / 1_000_000);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
      expired.forEach(l -> returnLease(l.id));
    }
  }

  private void returnLease(ByteString leaseId) {
    if (!isClosed()) {
      core.action(
          ClientAction.newBuilder()
              .setReturnLease(ReturnLease.newBuilder().setLeaseId(leaseId))
              .build());
    }
  }

  // ---------------------------------------------------------------- shared

  /** Registers a call as pushed (caller holds the lock: registrations in push order). */
  private Call register(TaskSpec.Builder spec) {
    TaskSpec built = spec.setDirect(true).build();
    long seq = core.registerDirect(built);
    ByteString returnId = Ids.returnId(built.getTaskId(), 1);
    Pending p = new Pending();
    pending.put(returnId, p);
    return new Call(built, seq, returnId, p);
  }

  /** This process's stream to the worker at {@code address} (caller holds the lock). */
  private PushStream stream(String address) {
    PushStream s = streams.get(address);
    if (s == null || !s.alive()) {
      s = new PushStream(address, token, this::streamEnded);
      streams.put(address, s);
    }
    return s;
  }

  private void streamEnded(PushStream s) {
    synchronized (lock) {
      streams.remove(s.address, s);
    }
  }

  /** A push was answered or failed: caches its small returns, stops tracking it (lock held). */
  private void settle(List<Call> batch, List<TaskFinished> results) {
    for (TaskFinished f : results) {
      for (ObjectValue v : f.getReturnsList()) {
        Pending p = pending.get(v.getObjectId());
        if (p != null && !p.forgotten && v.hasInline() && v.getInline().getNestedRefsCount() == 0) {
          core.cacheAnswer(v);
        }
      }
    }
    batch.forEach(c -> pending.remove(c.returnId()));
    pushesInFlight--;
  }

  /** Forwards the ends the worker left to us, on this process's stream (not urgent). */
  private void forward(PushTaskReply reply, List<TaskFinished> results) {
    if (isClosed()) {
      return;
    }
    for (TaskFinished f : results) {
      if (f.getCallerReports()) {
        core.lazyAction(
            ClientAction.newBuilder()
                .setDirectFinished(
                    DirectFinished.newBuilder().setWorkerId(reply.getWorkerId()).setFinished(f))
                .build());
      }
    }
  }

  private void failed(List<Call> calls, Throwable failure) {
    if (isClosed()) {
      return;
    }
    for (Call c : calls) {
      core.action(
          ClientAction.newBuilder()
              .setDirectCallFailed(
                  DirectCallFailed.newBuilder()
                      .setTaskId(c.spec().getTaskId())
                      .setReason(failure.getClass().getSimpleName() + ": " + failure.getMessage()))
              .build());
    }
  }

  private boolean isClosed() {
    synchronized (lock) {
      return closed;
    }
  }

  // ---------------------------------------------------------------- readers

  /** This process's last ref to the object died: an answer that comes later is not cached. */
  void forget(ByteString objectId) {
    synchronized (lock) {
      Pending p = pending.get(objectId);
      if (p != null) {
        p.forgotten = true;
      }
    }
  }

  /**
   * Waits for the answers of pushed calls among {@code ids} (the others are the node's to answer);
   * false if {@code deadlineNanos} passed first.
   */
  boolean awaitAnswers(List<ByteString> ids, long deadlineNanos) {
    LinkedHashSet<Pending> waits = new LinkedHashSet<>();
    synchronized (lock) {
      if (pending.isEmpty()) {
        return true;
      }
      for (ByteString id : ids) {
        Pending p = pending.get(id);
        if (p != null) {
          waits.add(p);
        }
      }
    }
    try {
      for (Pending p : waits) {
        if (deadlineNanos == Long.MAX_VALUE) {
          p.done.await();
        } else if (!p.done.await(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS)) {
          return false;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RayException("interrupted while waiting for a call's answer");
    }
    return true;
  }

  @Override
  public void close() {
    List<PushStream> open;
    synchronized (lock) {
      closed = true;
      lock.notifyAll(); // leases end with the session on the node
      open = new ArrayList<>(streams.values());
      streams.clear();
    }
    open.forEach(PushStream::close);
  }
}
