package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.BundleResources;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.Ids;
import io.ray.engine.common.PeerChannels;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.actors.LocalActor;
import io.ray.engine.nodemanager.jobs.JobTable;
import io.ray.engine.nodemanager.objects.EngineErrors;
import io.ray.engine.nodemanager.objects.ObjectDirectory;
import io.ray.engine.nodemanager.objects.ObjectRequests;
import io.ray.engine.nodemanager.resources.ResourceLedger;
import io.ray.engine.nodemanager.scheduling.ClassCaps;
import io.ray.engine.nodemanager.scheduling.DispatchPlanner;
import io.ray.engine.nodemanager.scheduling.SchedulingClass;
import io.ray.engine.nodemanager.scheduling.WorkerKey;
import io.ray.engine.nodemanager.workers.WorkerHandle;
import io.ray.engine.nodemanager.workers.WorkerPool;
import io.ray.engine.rpc.*;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's tasks from submission to their end: waiting for arguments, queueing per scheduling
 * class, leasing resources from the {@link ResourceLedger} under each task's id, dispatching to
 * workers of the right {@link WorkerKey}, retries, cancellation, and failures when a worker dies.
 * Actor creation tasks go through here too; actor calls are routed by the {@link ActorSupervisor}.
 *
 * <p>Invariants: a task holds a lease exactly while {@code leased} is set, which is only while a
 * worker runs it (or the creation task of an actor runs); {@link #endLease} is the only place that
 * releases one, and it also ends the task's count in its class's cap. A task is in {@code tasks}
 * from acceptance until {@link #finish}; it is in {@code queue} only while ready and not running.
 *
 * <p>Threading: owned by the node manager's loop.
 *
 * <p>Tasks this node has no room for spill to peers through {@link TaskForwarding}, which holds no
 * lease: a forwarded task runs under the peer's ledger.
 *
 * <p>Size: about 1,000 lines, above our ~600 guideline on purpose: every path that takes or gives
 * back a task's lease (dispatch, finish, retry, cancel, a worker's death, a job's end) is here, so
 * the lease invariant can be checked by reading one file. What does not touch the ledger (the
 * forwarding itself, the direct-call leases) lives in its own classes; the ~200 lines of glue to
 * {@link TaskForwarding} (spill, node affinity, forwarded tasks' ends, calls passed on to an
 * actor's home node) stay here because they move tasks in and out of the queue. Splitting the queue
 * into its own class is the next step.
 */
final class TaskScheduler implements TaskForwarding.Tasks {
  private static final Logger LOG = LoggerFactory.getLogger(TaskScheduler.class);
  private static final String CPU = "CPU";
  private static final long REPORT_INTERVAL_MS = 50;

  /** How long a crashed task's error waits for its worker's exit code. */
  private static final long EXIT_CODE_WAIT_MS = 2_000;

  private final NodeConfig config;
  private final EventLoop loop;
  private final ObjectDirectory objects;
  private final ObjectRequests objectRequests;
  private final WorkerPool workers;
  private final JobTable jobs;
  private final ActorSupervisor actors;
  private final LogPublisher logs;
  private final ControlGateway control;

  /** Every grant of the node's resources, by lease id (a task's id, an actor's id). */
  private final ResourceLedger ledger;

  /** Running tasks per scheduling class, and their back-off beyond the cap. */
  private final ClassCaps caps;

  /** Workers leased to callers that push plain tasks themselves. */
  private final WorkerLeases leases;

  /** Tasks sent to other nodes (spillback), and the other nodes as this one sees them. */
  private final TaskForwarding forwarding;

  private final Map<ByteString, TaskRecord> tasks = new HashMap<>();

  /**
   * Tasks whose arguments are ready, waiting for resources and a worker: one FIFO per scheduling
   * class, classes in the order their oldest waiting task arrived. An empty class is removed, so a
   * class that drains and refills goes to the back.
   */
  private final LinkedHashMap<SchedulingClass, ArrayDeque<TaskRecord>> queue =
      new LinkedHashMap<>();

  /** The runtime environment of each worker key seen in a task (to start workers for it). */
  private final Map<WorkerKey, RuntimeEnv> environments = new HashMap<>();

  private final Set<SchedulingClass> infeasibleWarned = new HashSet<>();

  /** Streaming generator tasks' items, for their callers. */
  final GeneratorStreams generators;

  /** This node's part in placement groups; made on first use (most nodes never see one). */
  private PlacementGroupsHere placementGroups;

  private boolean closed;
  private boolean reportScheduled;

  /** Where the next SPREAD task is dealt (DispatchPlanner's seat: 0 is this node). */
  private int spreadTurn;

  /** When a dispatch is scheduled for a capped class's back-off to end; 0 if none. */
  private long capTimerAtMs;

  TaskScheduler(
      NodeConfig config,
      EventLoop loop,
      ObjectDirectory objects,
      ObjectRequests objectRequests,
      WorkerPool workers,
      JobTable jobs,
      ActorSupervisor actors,
      LogPublisher logs,
      ControlGateway control,
      PeerChannels peers,
      ObjectTransfers transfers) {
    this.config = config;
    this.loop = loop;
    this.objects = objects;
    this.objectRequests = objectRequests;
    this.workers = workers;
    this.jobs = jobs;
    this.actors = actors;
    this.logs = logs;
    this.control = control;
    this.ledger = new ResourceLedger(config.total());
    this.caps = new ClassCaps(config.total().get(CPU));
    this.leases = new WorkerLeases(ledger, workers);
    this.generators = new GeneratorStreams(objects, loop);
    this.forwarding =
        new TaskForwarding(
            config, new Spillback(loop, config.nodeId(), peers), transfers, objects, this);
  }

  /** The environment workers of {@code key} start in. */
  RuntimeEnv environment(WorkerKey key) {
    return environments.getOrDefault(key, RuntimeEnv.getDefaultInstance());
  }

  ResourceSet available() {
    return ledger.available();
  }

  ResourceSet total() {
    return ledger.total();
  }

  void checkLedger() {
    ledger.checkInvariant();
  }

  /** No more dispatching: the node is closing. */
  void close() {
    closed = true;
  }

  /** The control service's latest view of the other nodes: queued tasks may spill to them now. */
  void clusterView(List<NodeInfo> nodes) {
    for (ByteString gone : forwarding.clusterView(nodes)) {
      actors.hostGone(gone);
    }
    if (!queue.isEmpty()) {
      dispatch();
    }
  }

  /**
   * The job ended: its queued tasks are dropped and its running ones forgotten, their leases ended
   * here (their workers are retired next, and by then nothing would give the resources back).
   * Detached actors outlive their job: their creation tasks and calls stay.
   */
  void endJob(ByteString jobId) {
    queue.forEach((c, q) -> q.removeIf(r -> r.jobId().equals(jobId) && !actors.survivesJob(r)));
    queue.values().removeIf(ArrayDeque::isEmpty);
    for (TaskRecord r : new ArrayList<>(tasks.values())) {
      if (r.jobId().equals(jobId) && !actors.survivesJob(r) && !r.isActorCall()) {
        if (r.forwardedTo != null) {
          forwarding.cancel(r.id(), "the job ended");
        } else if (r.lease != null) {
          leases.detach(r);
        } else if (r.worker != null) {
          r.worker.currentTask = null;
          r.worker = null;
        }
        endLease(r);
        finish(r);
      }
    }
    leases.giveBackAll(l -> l.jobId.equals(jobId));
  }

  /**
   * A worker that did not host an actor is gone: the task it ran is retried, cancelled or failed (a
   * task of an ended job is just forgotten).
   */
  void workerDied(WorkerHandle w, String why) {
    for (TaskRecord orphan : leases.workerGone(w)) {
      afterWorkerDeath(orphan, w, why);
    }
    TaskRecord r = w.currentTask == null ? null : tasks.get(w.currentTask);
    if (r == null || r.worker != w) {
      return;
    }
    releaseWorker(w, r);
    afterWorkerDeath(r, w, why);
  }

  private void afterWorkerDeath(TaskRecord r, WorkerHandle w, String why) {
    if (jobs.running(r.jobId()) == null) {
      finish(r);
    } else if (r.cancelled) {
      fail(r, "TaskCancelledError", cancelledMessage(r));
    } else if (r.retriesLeft != 0) {
      LOG.info("retrying task {} after its worker died", r.spec.getName());
      retry(r);
    } else {
      failCrashedTask(r, w, why);
    }
  }

  /** A task for a job that is not running here: its returns hold the error. */
  private void rejectTask(TaskSpec spec) {
    TaskRecord r = new TaskRecord(spec);
    for (int i = 1; i <= spec.getNumReturns(); i++) {
      objects.addPending(Ids.returnId(spec.getTaskId(), i), spec.getCallerId());
    }
    fail(r, "RaySystemError", "job " + Ids.hex(spec.getJobId()) + " is not running on this node");
  }

  /** A client submitted a task: it is queued once its arguments exist, or fails at once. */
  void submit(TaskSpec spec) {
    if (jobs.running(spec.getJobId()) == null) {
      rejectTask(spec);
    } else {
      accept(spec);
    }
  }

  private void accept(TaskSpec spec) {
    TaskRecord r = new TaskRecord(spec);
    tasks.put(r.id(), r);
    if (!spec.hasActorTask()) {
      environments.putIfAbsent(r.schedulingClass.workerKey(), spec.getRuntimeEnv());
    }
    for (int i = 1; i <= spec.getNumReturns(); i++) {
      objects.addPending(Ids.returnId(spec.getTaskId(), i), spec.getCallerId());
    }
    if (spec.hasActorCreation()) {
      actors.accepted(r);
    }
    List<ByteString> lost = new ArrayList<>();
    boolean passOn = spec.hasActorTask() && homeElsewhere(spec.getActorTask());
    if (spec.hasActorTask() && !passOn) {
      LocalActor<TaskRecord> actor = actors.route(r);
      if (actor == null) {
        return; // failed: the actor is unknown here or dead
      }
      r.actor = actor;
      // The call waits for the actor to exist and keeps it alive until it is done.
      ByteString lifetime = spec.getActorTask().getLifetimeObjectId();
      ObjectDirectory.Entry e = objects.get(lifetime);
      if (e != null) {
        objects.addTaskRef(lifetime);
        r.heldRefs.add(lifetime);
        if (!e.ready()) {
          r.missingArgs++;
          objects.whenReady(e, () -> argumentReady(r));
        }
      }
    }
    for (TaskArg arg : spec.getArgsList()) {
      if (arg.hasValue()) {
        for (ByteString nested : arg.getValue().getNestedRefsList()) {
          objects.addTaskRef(nested);
          r.heldRefs.add(nested);
        }
        continue;
      }
      ByteString id = arg.getObjectId();
      ObjectDirectory.Entry e = objects.get(id);
      if (e == null) {
        lost.add(id);
        continue;
      }
      objects.addTaskRef(id);
      r.heldRefs.add(id);
      if (!e.ready()) {
        r.missingArgs++;
        objects.whenReady(e, () -> argumentReady(r));
      }
    }
    if (!lost.isEmpty()) {
      fail(
          r,
          "ObjectLostError",
          "Failed to retrieve object "
              + Ids.hex(lost.get(0))
              + ", an argument of task "
              + spec.getName()
              + ": it no longer exists (it was freed"
              + " because no ObjectRef to it remained, or its node died).");
      return;
    }
    if (passOn) {
      passOnToHome(r);
    } else if (r.isActorCall() && spec.getDirect()) {
      actors.acceptDirect(r);
    } else if (!spec.getLeaseId().isEmpty() && r.missingArgs == 0 && leases.attach(r)) {
      return; // pushed by its caller to the worker it leased, which runs it
    } else if (r.isActorCall()) {
      r.actor.enqueue(spec.getCallerId(), r);
      actors.pump(r.actor);
    } else if (r.missingArgs == 0) {
      enqueue(r);
    }
  }

  /** Whether a call is for an actor this node has no record of, whose home node is alive. */
  private boolean homeElsewhere(ActorTaskSpec a) {
    ByteString home = a.getHomeNodeId();
    return !actors.knows(a.getActorId())
        && !home.isEmpty()
        && !home.equals(config.nodeId())
        && forwarding.alive(home);
  }

  /**
   * A call of an actor this node has no record of, made here with a handle that travelled from the
   * actor's home node: it goes there, which routes it to the actor wherever it lives. Its record
   * here holds its arguments until that node answers.
   */
  private void passOnToHome(TaskRecord r) {
    ByteString home = r.spec.getActorTask().getHomeNodeId();
    if (r.missingArgs > 0 || !forwarding.forwardCall(r, home)) {
      fail(
          r,
          "RaySystemError",
          "The call "
              + r.spec.getName()
              + " cannot reach its actor on another node: its arguments must be ready values"
              + " (not refs to objects still being made, nor large values holding refs).");
    }
  }

  private void argumentReady(TaskRecord r) {
    if (--r.missingArgs == 0 && tasks.get(r.id()) == r) {
      if (r.isActorCall()) {
        actors.pump(r.actor);
      } else {
        enqueue(r);
        dispatch();
      }
    }
  }

  void enqueue(TaskRecord r) {
    if (placementGroups != null && placementGroups.failIfRemoved(r)) {
      return;
    }
    if (r.spec.getSchedulingStrategy().hasNodeAffinity() && !placeByAffinity(r)) {
      return;
    }
    queue.computeIfAbsent(r.schedulingClass, c -> new ArrayDeque<>()).add(r);
  }

  /**
   * NodeAffinitySchedulingStrategy: a task for another alive node goes there (true: queue it here
   * instead). If that node is not alive, a soft affinity runs the task by the default policy (it is
   * queued here, where only this node runs it), a hard one fails it with TaskUnschedulableError, as
   * in Ray.
   */
  private boolean placeByAffinity(TaskRecord r) {
    NodeAffinity a = r.spec.getSchedulingStrategy().getNodeAffinity();
    if (a.getNodeId().equals(config.nodeId()) || r.fromPeer) {
      return true;
    }
    if (forwarding.alive(a.getNodeId()) && forwarding.forward(r, a.getNodeId())) {
      return false;
    }
    if (a.getSoft()) {
      return true;
    }
    unschedulable(r, "it is not alive (or the task's arguments cannot travel there)");
    return false;
  }

  /** Fails a task whose hard node affinity cannot be met, as Ray does. */
  private void unschedulable(TaskRecord r, String why) {
    String text =
        (r.spec.hasActorCreation() ? "The actor " : "The task ")
            + r.spec.getName()
            + " cannot run on node "
            + Ids.hex(r.spec.getSchedulingStrategy().getNodeAffinity().getNodeId())
            + " (NodeAffinitySchedulingStrategy, soft=False): "
            + why
            + ".";
    if (r.spec.hasActorCreation()) {
      actors.unplaceable(r, "ActorUnschedulableError", text);
    } else {
      fail(r, "TaskUnschedulableError", text);
    }
  }

  // ---------------------------------------------------------------- placement groups

  // ---------------------------------------------------------------- placement groups

  /** This node's bundles of placement groups, and the groups removed. */
  PlacementGroupsHere placementGroups() {
    if (placementGroups == null) {
      placementGroups =
          new PlacementGroupsHere(
              ledger,
              new PlacementGroupsHere.Host() {
                @Override
                public void dispatch() {
                  TaskScheduler.this.dispatch();
                }

                @Override
                public void reportSoon() {
                  reportResourcesSoon();
                }

                @Override
                public List<TaskRecord> queued() {
                  List<TaskRecord> all = new ArrayList<>();
                  queue.values().forEach(all::addAll);
                  return all;
                }

                @Override
                public void unqueue(TaskRecord r) {
                  TaskScheduler.this.unqueue(r);
                }

                @Override
                public void failUnplaceable(TaskRecord r, String errorType, String why) {
                  if (r.spec.hasActorCreation()) {
                    actors.unplaceable(r, errorType, why);
                  } else {
                    fail(r, errorType, why);
                  }
                }

                @Override
                public WorkerHandle workerOfLease(ByteString leaseId) {
                  TaskRecord r = tasks.get(leaseId);
                  return r != null ? r.worker : actors.workerOfActor(leaseId);
                }

                @Override
                public void kill(WorkerHandle w) {
                  workers.kill(w);
                }
              });
    }
    return placementGroups;
  }

  /** Matches queued tasks with resources and workers; starts workers when none is idle. */
  void dispatch() {
    if (closed) {
      return;
    }
    long now = System.currentTimeMillis();
    List<DispatchPlanner.Queued> classes = new ArrayList<>(queue.size());
    queue.forEach(
        (c, tasksOfClass) ->
            classes.add(
                new DispatchPlanner.Queued(c, tasksOfClass.size(), caps.allowance(c, now))));
    Map<WorkerKey, Integer> starting = workers.countByKey(WorkerHandle.State.STARTING);
    int startingTotal = starting.values().stream().mapToInt(Integer::intValue).sum();
    int budget = Math.max(0, Math.max(2, config.workerSoftLimit()) - startingTotal);
    DispatchPlanner.Plan plan =
        DispatchPlanner.plan(
            classes,
            ledger.total(),
            ledger.available(),
            workers.countByKey(WorkerHandle.State.IDLE),
            starting,
            budget,
            forwarding.candidates(now),
            spreadTurn);
    spreadTurn = plan.spreadTurn();
    plan.dispatch()
        .forEach(
            (c, n) -> {
              ArrayDeque<TaskRecord> tasksOfClass = queue.get(c);
              for (int i = 0; i < n; i++) {
                if (!assign(tasksOfClass.peek(), workers.idle(c.workerKey()))) {
                  break; // GPU devices too fragmented for it now; it stays first in line
                }
                tasksOfClass.poll();
              }
              if (tasksOfClass.isEmpty()) {
                queue.remove(c);
              }
            });
    plan.spill().forEach(this::spill);
    plan.workersToStart()
        .forEach(
            (key, n) -> {
              for (int i = 0; i < n; i++) {
                workers.start(key, environment(key));
              }
            });
    for (SchedulingClass c : plan.infeasible()) {
      warnInfeasible(queue.get(c).peek());
    }
    scheduleCapTimer(plan.capped());
    reportResourcesSoon();
  }

  /** A capped class may start one more task when its back-off ends: dispatch again then. */
  private void scheduleCapTimer(List<SchedulingClass> capped) {
    long at = Long.MAX_VALUE;
    for (SchedulingClass c : capped) {
      long next = caps.nextRaiseAtMs(c);
      if (next > 0) {
        at = Math.min(at, next);
      }
    }
    if (at == Long.MAX_VALUE || (capTimerAtMs != 0 && capTimerAtMs <= at)) {
      return;
    }
    long when = at;
    capTimerAtMs = when;
    long delay = Math.max(1, when - System.currentTimeMillis());
    loop.schedule(
        () -> {
          if (capTimerAtMs == when) {
            capTimerAtMs = 0;
          }
          dispatch();
        },
        delay,
        TimeUnit.MILLISECONDS);
  }

  /**
   * Tells the control service about free resources at most every REPORT_INTERVAL_MS; a burst of
   * dispatches costs one report. (Local readers ask the node manager directly.)
   */
  private void reportResourcesSoon() {
    if (reportScheduled || closed) {
      return;
    }
    reportScheduled = true;
    loop.schedule(
        () -> {
          reportScheduled = false;
          report();
        },
        REPORT_INTERVAL_MS,
        TimeUnit.MILLISECONDS);
  }

  /**
   * Leases the task's resources and sends it to the worker. False (nothing changed) when the ledger
   * cannot place its GPU share on whole devices now.
   */
  private boolean assign(TaskRecord r, WorkerHandle w) {
    List<Integer> gpus = ledger.grant(r.id(), r.demand);
    if (gpus == null) {
      return false;
    }
    r.leased = true;
    caps.started(r.schedulingClass, System.currentTimeMillis());
    if (r.actor != null) {
      actors.creationAssigned(r, w);
    }
    r.worker = w;
    w.state = WorkerHandle.State.BUSY;
    w.currentTask = r.id();
    w.blockedDepth = 0;
    TaskSpec.Builder spec = r.spec.toBuilder().setAttempt(r.attempt).addAllAssignedGpuIds(gpus);
    w.send(NodeMessage.newBuilder().setExecute(withResolvedArgs(spec.build(), w)).build());
    return true;
  }

  /** Ends the task's lease: its resources go back and it stops counting in its class's cap. */
  void endLease(TaskRecord r) {
    if (!r.leased) {
      return;
    }
    r.leased = false;
    ledger.release(r.id());
    caps.finished(r.schedulingClass);
  }

  /**
   * The spec with every by-reference argument's value attached (all are ready when a task is sent):
   * small values inline, arena values as a location pinned for the worker, which releases the pin
   * like any reader. The worker then needs no fetch before it runs the task.
   */
  TaskSpec withResolvedArgs(TaskSpec spec, WorkerHandle w) {
    TaskSpec.Builder b = null;
    for (int i = 0; i < spec.getArgsCount(); i++) {
      TaskArg arg = spec.getArgs(i);
      if (!arg.hasObjectId()) {
        continue;
      }
      ObjectDirectory.Entry e = objects.get(arg.getObjectId());
      if (e == null || !e.ready()) {
        continue; // the worker fetches it and gets the error
      }
      if (b == null) {
        b = spec.toBuilder();
      }
      b.setArgs(
          i, arg.toBuilder().setResolved(objectRequests.describe(w.workerId, arg.getObjectId())));
    }
    return b == null ? spec : b.build();
  }

  /** Tells the driver once per class that its tasks cannot run on this cluster as it is. */
  private void warnInfeasible(TaskRecord r) {
    // A task for a placement group waits for the group to be placed, silently (as in Ray).
    if (BundleResources.inGroup(r.demand) || !infeasibleWarned.add(r.schedulingClass)) {
      return;
    }
    String text =
        "Warning: The task "
            + r.spec.getName()
            + " cannot be scheduled: it requires "
            + r.demand
            + ", but no node of this cluster has that much (this node has "
            + ledger.total()
            + "). It stays pending until a node that can run it joins the cluster.";
    LOG.warn(text);
    logs.publish(r.jobId(), List.of(LogLine.newBuilder().setIsErr(true).setText(text).build()));
  }

  /** The worker reports the end of its task (a stale report is ignored). */
  void taskFinished(WorkerHandle w, TaskFinished done) {
    TaskRecord r = tasks.get(done.getTaskId());
    if (r == null || r.worker != w) {
      return;
    }
    if (r.actor != null) {
      actors.taskFinished(w, r, done);
    } else if (done.getApplicationError()
        && retryable(r, done)
        && !done.getCancelled()
        && !r.cancelled
        && r.retriesLeft != 0) {
      releaseWorker(w, r);
      retry(r);
    } else {
      storeReturns(done);
      releaseWorker(w, r);
      finish(r);
    }
  }

  /**
   * Whether a task's exception may be retried: retry_exceptions=True retries every exception; with
   * a list of classes the worker, which can test the exception's class, decides.
   */
  private static boolean retryable(TaskRecord r, TaskFinished done) {
    return done.getExceptionRetryable()
        || (r.spec.getRetryExceptions() && r.spec.getRetryExceptionAllowlist().isEmpty());
  }

  /** Makes a finished task's inline returns ready (arena returns were sealed already). */
  void storeReturns(TaskFinished done) {
    for (ObjectValue v : done.getReturnsList()) {
      if (v.hasInline()) {
        objects.putInline(v.getObjectId(), v.getInline(), null);
      }
    }
  }

  private void releaseWorker(WorkerHandle w, TaskRecord r) {
    if (r.lease != null) {
      leases.detach(r); // the worker stays leased to the caller
      return;
    }
    endLease(r);
    r.worker = null;
    w.backToPool();
  }

  private void retry(TaskRecord r) {
    if (r.retriesLeft > 0) {
      r.retriesLeft--;
    }
    r.attempt++;
    enqueue(r);
  }

  /** Forgets a task and releases what it kept alive. */
  @Override
  public void finish(TaskRecord r) {
    if (r.spec.getStreaming()) {
      generators.ended(r.id());
    }
    tasks.remove(r.id());
    for (ByteString id : r.heldRefs) {
      objects.removeTaskRef(id);
    }
    r.heldRefs.clear();
  }

  /** Stores an engine error as every return value of the task, and finishes it. */
  @Override
  public void fail(TaskRecord r, String errorType, String message) {
    InlineObject error = EngineErrors.of(errorType, message);
    if (r.spec.getStreaming()) {
      generators.failed(r.id(), r.spec.getCallerId(), error);
    }
    for (int i = 1; i <= r.spec.getNumReturns(); i++) {
      objects.putInline(Ids.returnId(r.id(), i), error, null);
    }
    finish(r);
  }

  // ---------------------------------------------------------------- direct calls

  /** Holds the refs nested in a report's inline returns (while it waits); returns them. */
  List<ByteString> holdNestedRefs(TaskFinished done) {
    List<ByteString> held = new ArrayList<>();
    for (ObjectValue v : done.getReturnsList()) {
      if (v.hasInline()) {
        for (ByteString id : v.getInline().getNestedRefsList()) {
          if (objects.get(id) != null) {
            objects.addTaskRef(id);
            held.add(id);
          }
        }
      }
    }
    return held;
  }

  void releaseHeld(List<ByteString> held) {
    held.forEach(objects::removeTaskRef);
  }

  /**
   * The caller could not push a direct call (and its worker did not go away, which would fail or
   * retry it anyway): unless the worker already reported it, it fails with the reason.
   */
  void directCallFailed(ByteString taskId, String reason) {
    TaskRecord r = tasks.get(taskId);
    if (r != null && r.lease != null) {
      // A task for a leased worker that did not take it: the node runs it instead.
      leases.detach(r);
      enqueue(r);
      dispatch();
      return;
    }
    if (r == null || !r.spec.getDirect() || r.actor == null) {
      return;
    }
    r.actor.finished(taskId);
    fail(r, "RaySystemError", "The call " + r.spec.getName() + " could not be sent: " + reason);
  }

  // ---------------------------------------------------------------- spillback

  /** Sends the first queued tasks of {@code c} to the planned peers, while they can travel. */
  private void spill(SchedulingClass c, List<ByteString> nodes) {
    ArrayDeque<TaskRecord> q = queue.get(c);
    for (ByteString node : nodes) {
      TaskRecord r = q == null ? null : q.peek();
      if (r == null || !forwarding.forward(r, node)) {
        break; // it stays first in line and runs here
      }
      q.poll();
    }
    if (q != null && q.isEmpty()) {
      queue.remove(c);
    }
  }

  /**
   * A peer forwarded a task: it runs here as any task, and {@code reply} gets its returns once they
   * are all ready. A demand this node can never meet is refused.
   */
  void acceptForwarded(
      TaskSpec forwarded,
      ByteString from,
      List<ObjectValue> nested,
      Reply<ForwardTaskReply> reply) {
    TaskSpec spec = forwarded;
    if (closed || !ledger.total().contains(ResourceSet.of(spec.getResourcesMap()))) {
      reply.ok(ForwardTaskReply.newBuilder().setRejected(closed ? "closing" : "no room").build());
      return;
    }
    if (tasks.containsKey(spec.getTaskId()) || jobs.running(spec.getJobId()) == null) {
      reply.ok(ForwardTaskReply.newBuilder().setRejected("not now").build());
      return;
    }
    List<Runnable> pulls = new ArrayList<>();
    List<ByteString> pulled = new ArrayList<>();
    spec = forwarding.receiving(spec, from, nested, pulls, pulled);
    accept(spec);
    pulls.forEach(Runnable::run);
    TaskRecord r = tasks.get(spec.getTaskId());
    if (r != null) {
      r.fromPeer = true;
    }
    forwarding.answerWhenDone(spec, from, pulled, reply);
  }

  /** The peer that forwarded a task cancelled its call: the task is cancelled here. */
  void forwardCancelled(ByteString taskId) {
    TaskRecord r = tasks.get(taskId);
    if (r != null && r.fromPeer) {
      cancel(taskId, false, true);
    }
  }

  // TaskForwarding.Tasks: what a forwarded task's end does here.

  @Override
  public void forwardedEnded(TaskRecord r, ByteString node) {
    if (r.actor == null) {
      finish(r);
    } else {
      actors.forwardedEnded(r, node);
    }
    if (!queue.isEmpty()) {
      dispatch(); // the peer has room again: the next queued task may go there
    }
  }

  @Override
  public void resultsElsewhere(TaskRecord r) {
    if (!queue.isEmpty()) {
      dispatch(); // the peer has room again: the next queued task may go there
    }
  }

  /** A new job's driver attached here: the peers warm its workers. */
  void announceJob(ByteString jobId) {
    forwarding.announceJob(jobId);
  }

  /** An object's entry is gone: a peer that kept it for this node may let go. */
  void objectRemoved(ByteString id) {
    forwarding.objectRemoved(id);
  }

  @Override
  public boolean forwardedLost(TaskRecord r, ByteString node, String why) {
    if (r.actor == null) {
      return false;
    }
    actors.remoteHostLost(r, node, why);
    return true;
  }

  boolean peerAlive(ByteString node) {
    return forwarding.alive(node);
  }

  /** Sends a call of an actor that lives on {@code node} there; false if it cannot travel. */
  boolean forwardActorCall(TaskRecord call, ByteString node) {
    return forwarding.forwardCall(call, node);
  }

  /** Ends (or, with restart, restarts) an actor that lives on {@code node}. */
  void endRemoteActor(ByteString node, LocalActor<TaskRecord> actor, boolean noRestart) {
    forwarding.endActor(
        node, actor.actorId, Ids.returnId(actor.creation.getTaskId(), 1), noRestart);
  }

  /** The node that forwarded an actor's creation here ends the actor, or restarts it. */
  void endForwardedActor(EndForwardedActorRequest req) {
    actors.kill(
        KillActor.newBuilder()
            .setActorId(req.getActorId())
            .setNoRestart(req.getNoRestart())
            .build());
    if (req.getNoRestart()) {
      objects.addClientRef(req.getLifetimeObjectId(), req.getFromNodeId(), -1);
    }
  }

  @Override
  public boolean isActorLifetime(ByteString id) {
    return actors.isLifetime(id);
  }

  @Override
  public boolean current(TaskRecord r) {
    return tasks.get(r.id()) == r;
  }

  @Override
  public void requeue(TaskRecord r) {
    SchedulingStrategy strategy = r.spec.getSchedulingStrategy();
    if (strategy.hasNodeAffinity() && !strategy.getNodeAffinity().getSoft()) {
      unschedulable(r, "that node refused it");
      return;
    }
    // A refused soft-affinity task stays here rather than go back to the node that refused it.
    queue.computeIfAbsent(r.schedulingClass, c -> new ArrayDeque<>()).add(r);
    dispatch();
  }

  @Override
  public void retryNow(TaskRecord r) {
    retry(r);
    dispatch();
  }

  // ---------------------------------------------------------------- ray.cancel

  /**
   * ray.cancel: a task not yet sent to a worker is dropped and fails with TaskCancelledError; a
   * running one is interrupted (KeyboardInterrupt in its thread) or, with {@code force}, its worker
   * is killed. A finished or unknown task is left alone. {@code recursive} also cancels the tasks
   * it submitted, and theirs.
   */
  void cancel(ByteString taskId, boolean force, boolean recursive) {
    TaskRecord r = tasks.get(taskId);
    if (r == null || r.cancelled || r.resultsAt != null) {
      return; // unknown, cancelled already, or finished (its returns are at a peer)
    }
    r.cancelled = true;
    if (recursive) {
      for (TaskRecord child : new ArrayList<>(tasks.values())) {
        if (child.spec.getParentTaskId().equals(taskId)) {
          cancel(child.id(), force, true);
        }
      }
    }
    if (r.forwardedTo != null) {
      // Cancelling the call cancels the task at the peer; its failure then fails it here.
      forwarding.cancel(taskId, "ray.cancel");
    } else if (r.worker == null) {
      if (r.isActorCall()) {
        if (!actors.cancelWaiting(r)) {
          return; // not queued for the actor (routed elsewhere already): nothing to drop
        }
      } else {
        unqueue(r);
      }
      fail(r, "TaskCancelledError", cancelledMessage(r));
      dispatch();
    } else if (force && !r.isActorCall()) {
      // Not for an actor call: killing its worker would kill the actor. Ray refuses force there
      // (and skips actor calls in a recursive forced cancel), so they are interrupted instead.
      LOG.info("cancelling task {} by killing its worker", r.spec.getName());
      workers.kill(r.worker); // workerGone fails the task with TaskCancelledError
    } else {
      r.worker.send(
          NodeMessage.newBuilder()
              .setCancel(
                  CancelTask.newBuilder().setTaskId(taskId).setForce(false).setRecursive(false))
              .build());
    }
  }

  @Override
  public String cancelledMessage(TaskRecord r) {
    return "Task " + r.spec.getName() + " (" + Ids.hex(r.id()) + ") was cancelled.";
  }

  // ---------------------------------------------------------------- worker leases

  /**
   * Leases an idle worker for tasks shaped like {@code shape} to {@code owner}; null when it cannot
   * be granted at once, or while tasks wait in the queue (they come first).
   */
  WorkerLeases.Lease lease(ByteString owner, TaskSpec shape) {
    if (closed
        || !queue.isEmpty()
        || jobs.running(shape.getJobId()) == null
        || shape.hasActorCreation()
        || shape.hasActorTask()) {
      return null;
    }
    WorkerKey key = new TaskRecord(shape).schedulingClass.workerKey();
    WorkerLeases.Lease l = leases.grant(owner, shape, key);
    if (l != null) {
      reportResourcesSoon();
    }
    return l;
  }

  /** The owner gives a lease back; its worker returns to the pool once its tasks ended. */
  void returnLease(ByteString owner, ByteString leaseId) {
    leases.giveBack(owner, leaseId);
    reportResourcesSoon();
  }

  /** A client left: the leases it held are given back. */
  void ownerGone(ByteString owner) {
    leases.giveBackAll(l -> l.owner.equals(owner));
  }

  int leaseCount() {
    return leases.size();
  }

  TaskRecord task(ByteString taskId) {
    return tasks.get(taskId);
  }

  /** Tells the control service what is free here and what the queue waits for. */
  void report() {
    ResourceSet queued = ResourceSet.EMPTY;
    Map<ResourceSet, Integer> byShape = new LinkedHashMap<>();
    for (Map.Entry<SchedulingClass, ArrayDeque<TaskRecord>> e : queue.entrySet()) {
      ResourceSet demand = e.getKey().demand();
      for (int i = 0; i < e.getValue().size(); i++) {
        queued = queued.plus(demand);
      }
      byShape.merge(demand, e.getValue().size(), Integer::sum);
    }
    List<ResourceDemand> demands = new ArrayList<>();
    byShape.forEach(
        (shape, n) ->
            demands.add(
                ResourceDemand.newBuilder().putAllShape(shape.toMap()).setCount(n).build()));
    control.reportResources(
        config.nodeId(),
        ledger.total().toMap(),
        ledger.available().toNonNegativeMap(),
        queued.toNonNegativeMap(),
        demands);
  }

  /** Leases the resources an actor holds while it lives, under the actor's id. */
  void holdForActor(ByteString actorId, ResourceSet resources) {
    ledger.grant(actorId, resources);
  }

  /** Ends an actor's lifetime lease (no-op if it holds none). */
  void releaseActor(ByteString actorId) {
    ledger.release(actorId);
  }

  /** Takes a task out of the dispatch queue, if it is there. */
  void unqueue(TaskRecord r) {
    ArrayDeque<TaskRecord> q = queue.get(r.schedulingClass);
    if (q != null && q.remove(r) && q.isEmpty()) {
      queue.remove(r.schedulingClass);
    }
  }

  /**
   * Fails a task whose worker died and that has no retries left. A lost channel is usually the
   * worker's exit seen a moment before the process is reaped, and the exit code says more to a user
   * than the channel's status: the error waits for the exit, up to {@link #EXIT_CODE_WAIT_MS}. The
   * worker is already out of the pool, so nothing else waits.
   */
  private void failCrashedTask(TaskRecord r, WorkerHandle w, String why) {
    Runnable failIt =
        () -> {
          if (tasks.get(r.id()) != r) {
            return; // finished meanwhile (its job ended)
          }
          Process p = w.process;
          String cause =
              p != null && !p.isAlive() ? "process exited with code " + p.exitValue() : why;
          int retried = r.spec.getMaxRetries();
          fail(
              r,
              "WorkerCrashedError",
              "The worker died unexpectedly while executing task "
                  + r.spec.getName()
                  + " (pid="
                  + w.pid
                  + ", "
                  + cause
                  + ")."
                  + (retried > 0
                      ? " It was retried " + retried + " times; every attempt died."
                      : " It was not retried: max_retries=0."));
        };
    Process p = w.process;
    if (p == null || !p.isAlive()) {
      failIt.run();
      return;
    }
    p.onExit() // a new future on every call: timing it out touches no other watcher
        .completeOnTimeout(p, EXIT_CODE_WAIT_MS, TimeUnit.MILLISECONDS)
        .thenRun(() -> loop.execute(failIt));
  }

  /**
   * A worker running a task blocks in ray.get / ray.wait: its CPUs go back to the pool so that the
   * tasks it waits for can run (otherwise a full node deadlocks).
   */
  void blocked(ByteString clientId) {
    WorkerHandle w = workers.get(clientId);
    TaskRecord r = w == null || w.currentTask == null ? null : tasks.get(w.currentTask);
    if (r == null || w.blockedDepth++ > 0) {
      return;
    }
    ledger.lendCpu(WorkerLeases.grantId(r));
    dispatch();
  }

  void unblocked(ByteString clientId) {
    WorkerHandle w = workers.get(clientId);
    TaskRecord r = w == null || w.currentTask == null ? null : tasks.get(w.currentTask);
    if (r == null || w.blockedDepth == 0 || --w.blockedDepth > 0) {
      return;
    }
    // Take the CPUs back even if that oversubscribes the node for a while, as Ray does.
    ledger.reclaimCpu(WorkerLeases.grantId(r));
  }
}
