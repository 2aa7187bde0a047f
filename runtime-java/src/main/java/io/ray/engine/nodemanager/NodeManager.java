package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.Ids;
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
import io.ray.engine.nodemanager.workers.WorkerLauncher;
import io.ray.engine.nodemanager.workers.WorkerPool;
import io.ray.engine.rpc.*;
import io.ray.shm.SharedMemoryArena;
import java.io.IOException;
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
 * The node manager: queues tasks until their arguments exist and resources and a worker are free,
 * runs them on worker processes, and keeps the node's objects (small ones in memory, large ones in
 * the shared-memory arena) until nobody references them.
 *
 * <p>Threading: every field is owned by {@link #loop}. Public methods may be called from any thread
 * (gRPC handlers, process watchers); they post their work to the loop and answer through a {@link
 * Reply}. Nothing here blocks the loop: waiting calls (get, wait) register callbacks on the objects
 * they wait for.
 */
public final class NodeManager implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeManager.class);
  private static final String CPU = "CPU";
  private static final long PRESTART_WAIT_MS = 60_000;
  private static final long IDLE_WORKER_KILL_MS = 1_000;
  private static final long REPORT_INTERVAL_MS = 50;

  /** How long a crashed task's error waits for its worker's exit code. */
  private static final long EXIT_CODE_WAIT_MS = 2_000;

  /**
   * A client's ordered change stream (ClientOps) and the reads that wait for it. A read that names
   * after_seq is served once the client's messages up to that seq are applied.
   */
  private static final class ClientStream {
    long appliedSeq;
    final java.util.TreeMap<Long, List<Runnable>> parked = new java.util.TreeMap<>();
  }

  private final NodeConfig config;
  private final EventLoop loop;
  private final SharedMemoryArena arena;
  private final ObjectDirectory objects;
  private final WorkerLauncher launcher;
  private final ControlGateway control;
  private final LogPublisher logs;
  private final ObjectRequests objectRequests;

  /** Every grant of the node's resources, by lease id (a task's id, an actor's id). */
  private final ResourceLedger ledger;

  /** Running tasks per scheduling class, and their back-off beyond the cap. */
  private final ClassCaps caps;

  private final Map<ByteString, TaskRecord> tasks = new HashMap<>();

  /**
   * Tasks whose arguments are ready, waiting for resources and a worker: one FIFO per scheduling
   * class, classes in the order their oldest waiting task arrived. An empty class is removed, so a
   * class that drains and refills goes to the back.
   */
  private final LinkedHashMap<SchedulingClass, ArrayDeque<TaskRecord>> queue =
      new LinkedHashMap<>();

  private final WorkerPool workers;
  private final JobTable jobs = new JobTable();

  /** The runtime environment of each worker key seen in a task (to start workers for it). */
  private final Map<WorkerKey, RuntimeEnv> environments = new HashMap<>();

  /** Change streams of attached drivers and workers, by client id. */
  private final Map<ByteString, ClientStream> clientStreams = new HashMap<>();

  private final Set<SchedulingClass> infeasibleWarned = new HashSet<>();

  /** Actors hosted here; a collaborator on this loop. */
  private final ActorSupervisor actors;

  private boolean closed;
  private boolean reportScheduled;

  /** When a dispatch is scheduled for a capped class's back-off to end; 0 if none. */
  private long capTimerAtMs;

  /**
   * @param loop the thread that owns this node manager's state; closed with it
   */
  public NodeManager(
      NodeConfig config, EventLoop loop, WorkerLauncher launcher, ControlGateway control)
      throws IOException {
    this.config = config;
    this.loop = loop;
    this.launcher = launcher;
    this.control = control;
    this.ledger = new ResourceLedger(config.total());
    this.caps = new ClassCaps(config.total().get(CPU));
    this.workers =
        new WorkerPool(loop, launcher, config.workerStartTimeoutMs(), this::workerGoneOnLoop);
    this.arena = SharedMemoryArena.create(config.arenaPath(), config.arenaCapacity());
    this.actors = new ActorSupervisor(this);
    this.objects =
        new ObjectDirectory(
            e -> arena.free(e.payloadOffset()), id -> loop.execute(() -> actors.objectRemoved(id)));
    this.logs = new LogPublisher(control, config.nodeIp(), loop);
    this.objectRequests =
        new ObjectRequests(
            loop,
            objects,
            arena,
            new ObjectRequests.Lending() {
              @Override
              public void blocked(ByteString client) {
                NodeManager.this.blocked(client);
              }

              @Override
              public void unblocked(ByteString client) {
                NodeManager.this.unblocked(client);
              }
            });
    loop.scheduleAtFixedRate(this::housekeeping, 1, TimeUnit.SECONDS);
  }

  public NodeConfig config() {
    return config;
  }

  // ---------------------------------------------------------------- drivers and jobs

  /**
   * A driver attached. Prestarts the job's workers and sends the welcome (after they are ready, if
   * asked). {@code events} stays open until the driver detaches.
   */
  public void attachDriver(AttachDriverRequest req, StreamObserver<DriverEvent> events) {
    loop.execute(
        () -> {
          ByteString jobId = req.getJobId();
          jobs.attach(new JobTable.Driver(req.getClientId(), jobId, req.getPid()));
          clientStreams.put(req.getClientId(), new ClientStream());
          withJob(
              jobId,
              job -> {
                Runnable welcome = () -> sendWelcome(job, events);
                int target = config.workerSoftLimit();
                job.prestartTarget = Math.max(job.prestartTarget, target);
                WorkerKey key = defaultKey(jobId);
                for (int i = workers.count(key, true); i < target; i++) {
                  startWorker(key);
                }
                if (req.getWaitForWorkers() && workers.count(key, false) < target) {
                  job.whenWorkersReady.add(welcome);
                  loop.schedule(
                      () -> {
                        if (job.whenWorkersReady.remove(welcome)) {
                          LOG.warn(
                              "job {}: workers not ready after {} ms; continuing",
                              Ids.hex(jobId),
                              PRESTART_WAIT_MS);
                          welcome.run();
                        }
                      },
                      PRESTART_WAIT_MS,
                      TimeUnit.MILLISECONDS);
                } else {
                  welcome.run();
                }
              },
              error -> {
                events.onError(Status.NOT_FOUND.withDescription(error).asRuntimeException());
              });
        });
  }

  private void sendWelcome(JobTable.Job job, StreamObserver<DriverEvent> events) {
    NodeWelcome welcome =
        NodeWelcome.newBuilder()
            .setNodeId(config.nodeId())
            .setNodeIp(config.nodeIp())
            .setArenaPath(arena.path().toString())
            .setArenaCapacity(arena.capacity())
            .setMaxInlineBytes(config.maxInlineBytes())
            .setReadyWorkers(workers.count(defaultKey(job.jobId), false))
            .build();
    try {
      events.onNext(DriverEvent.newBuilder().setWelcome(welcome).build());
    } catch (RuntimeException e) {
      // Driver left while we prepared; detachDriver cleans up.
    }
  }

  /**
   * The driver's session stream ended: it exited, died or called shutdown. {@code done} runs once
   * the node has let go of everything the driver held.
   */
  public void detachDriver(ByteString clientId, Runnable done) {
    loop.execute(
        () -> {
          JobTable.Driver d = jobs.detach(clientId);
          if (d == null) {
            done.run();
            return;
          }
          releaseParked(clientId);
          objects.dropClient(clientId);
          actors.ownerGone(clientId);
          if (!jobs.hasDriver(d.jobId())) {
            endJob(d.jobId());
          }
          done.run();
        });
  }

  /** Runs {@code body} with the job's state, fetching its configuration first if needed. */
  private void withJob(
      ByteString jobId,
      java.util.function.Consumer<JobTable.Job> body,
      java.util.function.Consumer<String> onMissing) {
    JobTable.Job known = jobs.get(jobId);
    if (known != null && known.config != null) {
      body.accept(known);
      return;
    }
    control.getJob(
        jobId,
        reply ->
            loop.execute(
                () -> {
                  if (reply == null || !reply.getFound()) {
                    onMissing.accept(
                        "job " + Ids.hex(jobId) + " is not registered with the control service");
                    return;
                  }
                  JobTable.Job job = jobs.getOrCreate(jobId);
                  job.config = reply.getConfig();
                  body.accept(job);
                }));
  }

  private void endJob(ByteString jobId) {
    jobs.end(jobId);
    LOG.info("job {} ended; stopping its workers", Ids.hex(jobId));
    // Detached actors outlive their job: their workers, creation tasks and calls stay.
    queue.forEach((c, q) -> q.removeIf(r -> r.jobId().equals(jobId) && !actors.survivesJob(r)));
    queue.values().removeIf(ArrayDeque::isEmpty);
    for (TaskRecord r : new ArrayList<>(tasks.values())) {
      if (r.jobId().equals(jobId) && !actors.survivesJob(r) && !r.isActorCall()) {
        // A running task's lease ends here: its worker is retired below, and by then the task
        // is gone, so nothing else would give its resources back.
        if (r.worker != null) {
          r.worker.currentTask = null;
          r.worker = null;
        }
        endLease(r);
        finish(r);
      }
    }
    for (WorkerHandle w : workers.all()) {
      if (w.jobId.equals(jobId) && !actors.hostsDetachedActor(w)) {
        retireWorker(w);
      }
    }
    // The job's log streams end with finishJob: only after its last lines are out.
    logs.afterQueued(() -> control.finishJob(jobId));
    dispatch();
  }

  // ---------------------------------------------------------------- tasks

  /**
   * Applies a client's next ClientOps message: its actions (submissions, puts) in order, then
   * reference increments, then decrements (so no change in the message frees what another keeps),
   * then serves the reads that waited for it.
   */
  public void clientOps(ByteString clientId, ClientOps ops) {
    loop.execute(
        () -> {
          ClientStream stream = clientStreams.get(clientId);
          if (stream == null) {
            LOG.warn("ops from unknown client {}", Ids.shortHex(clientId));
            return;
          }
          if (ops.getSeq() != stream.appliedSeq + 1) {
            LOG.error(
                "client {} sent ops {} after {}; ignored",
                Ids.shortHex(clientId),
                ops.getSeq(),
                stream.appliedSeq);
            return;
          }
          boolean submitted = false;
          for (ClientAction action : ops.getActionsList()) {
            if (action.hasSubmit()) {
              TaskSpec spec = action.getSubmit();
              if (jobs.running(spec.getJobId()) == null) {
                rejectTask(spec);
              } else {
                accept(spec);
                submitted = true;
              }
            } else if (action.hasKillActor()) {
              actors.kill(action.getKillActor());
            } else if (action.hasCancelTask()) {
              CancelTask c = action.getCancelTask();
              cancel(c.getTaskId(), c.getForce(), c.getRecursive());
            } else if (action.hasPut()) {
              ObjectValue put = action.getPut();
              if (!objects.putInline(put.getObjectId(), put.getInline(), clientId)) {
                LOG.warn(
                    "client {} put object {} twice; kept the first value",
                    Ids.shortHex(clientId),
                    Ids.hex(put.getObjectId()));
              }
            }
          }
          for (ReferenceDelta d : ops.getReferencesList()) {
            if (d.getRefDelta() > 0) {
              objects.addClientRef(d.getObjectId(), clientId, d.getRefDelta());
            }
            if (d.getPinsAcquired() > 0) {
              objects.pinById(d.getObjectId(), clientId, d.getPinsAcquired());
            }
          }
          for (ReferenceDelta d : ops.getReferencesList()) {
            if (d.getRefDelta() < 0) {
              objects.addClientRef(d.getObjectId(), clientId, d.getRefDelta());
            }
            if (d.getPinsReleased() > 0) {
              objects.unpin(d.getObjectId(), clientId, d.getPinsReleased());
            }
          }
          stream.appliedSeq = ops.getSeq();
          while (!stream.parked.isEmpty() && stream.parked.firstKey() <= stream.appliedSeq) {
            stream.parked.pollFirstEntry().getValue().forEach(Runnable::run);
          }
          if (submitted) {
            dispatch();
          }
        });
  }

  /** Runs {@code read} once the client's changes up to {@code afterSeq} are applied. */
  private void afterOps(ByteString clientId, long afterSeq, Runnable read) {
    ClientStream stream = clientStreams.get(clientId);
    if (stream == null || afterSeq <= stream.appliedSeq) {
      read.run();
      return;
    }
    stream.parked.computeIfAbsent(afterSeq, k -> new ArrayList<>()).add(read);
  }

  /** A departing client's parked reads are served with what there is (nobody is listening). */
  private void releaseParked(ByteString clientId) {
    ClientStream stream = clientStreams.remove(clientId);
    if (stream != null) {
      stream.parked.values().forEach(reads -> reads.forEach(Runnable::run));
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
    if (spec.hasActorTask()) {
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
    if (r.isActorCall()) {
      r.actor.enqueue(spec.getCallerId(), r);
      actors.pump(r.actor);
    } else if (r.missingArgs == 0) {
      enqueue(r);
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
    queue.computeIfAbsent(r.schedulingClass, c -> new ArrayDeque<>()).add(r);
  }

  /** Matches queued tasks with resources and workers; starts workers when none is idle. */
  private void dispatch() {
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
            config.total(),
            ledger.available(),
            workers.countByKey(WorkerHandle.State.IDLE),
            starting,
            budget);
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
    plan.workersToStart()
        .forEach(
            (key, n) -> {
              for (int i = 0; i < n; i++) {
                startWorker(key);
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
          control.reportResources(config.nodeId(), nonNegative(ledger.available()));
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
    w.callsByFunction.merge(r.spec.getFunction().getFunctionId(), 1, Integer::sum);
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
    if (!infeasibleWarned.add(r.schedulingClass)) {
      return;
    }
    String text =
        "Warning: The task "
            + r.spec.getName()
            + " cannot be scheduled: it requires "
            + r.demand
            + ", but no node of this cluster has that much (this node has "
            + config.total()
            + "). It stays pending until a node that can run it joins the cluster.";
    LOG.warn(text);
    logs.publish(r.jobId(), List.of(LogLine.newBuilder().setIsErr(true).setText(text).build()));
  }

  /** A worker reports the end of its task. */
  public void taskFinished(ByteString workerId, TaskFinished done) {
    loop.execute(
        () -> {
          WorkerHandle w = workers.get(workerId);
          TaskRecord r = tasks.get(done.getTaskId());
          if (w != null && r != null && r.worker == w) {
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
          if (w != null && done.getWorkerExiting()) {
            // max_calls reached, or the task called sys.exit(): a planned exit, not a crash.
            retireWorker(w);
          }
          dispatch();
        });
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
    endLease(r);
    r.worker = null;
    w.currentTask = null;
    w.blockedDepth = 0;
    if (w.state == WorkerHandle.State.BUSY) {
      w.state = WorkerHandle.State.IDLE;
      w.idleSinceMs = System.currentTimeMillis();
    }
  }

  private void retry(TaskRecord r) {
    if (r.retriesLeft > 0) {
      r.retriesLeft--;
    }
    r.attempt++;
    enqueue(r);
  }

  /** Forgets a task and releases what it kept alive. */
  void finish(TaskRecord r) {
    tasks.remove(r.id());
    for (ByteString id : r.heldRefs) {
      objects.removeTaskRef(id);
    }
    r.heldRefs.clear();
  }

  /** Stores an engine error as every return value of the task, and finishes it. */
  void fail(TaskRecord r, String errorType, String message) {
    InlineObject error = EngineErrors.of(errorType, message);
    for (int i = 1; i <= r.spec.getNumReturns(); i++) {
      objects.putInline(Ids.returnId(r.id(), i), error, null);
    }
    finish(r);
  }

  // ---------------------------------------------------------------- ray.cancel

  /**
   * ray.cancel: a task not yet sent to a worker is dropped and fails with TaskCancelledError; a
   * running one is interrupted (KeyboardInterrupt in its thread) or, with {@code force}, its worker
   * is killed. A finished or unknown task is left alone. {@code recursive} also cancels the tasks
   * it submitted, and theirs.
   */
  private void cancel(ByteString taskId, boolean force, boolean recursive) {
    TaskRecord r = tasks.get(taskId);
    if (r == null || r.cancelled) {
      return;
    }
    r.cancelled = true;
    if (recursive) {
      for (TaskRecord child : new ArrayList<>(tasks.values())) {
        if (child.spec.getParentTaskId().equals(taskId)) {
          cancel(child.id(), force, true);
        }
      }
    }
    if (r.worker == null) {
      if (r.isActorCall()) {
        if (!actors.cancelWaiting(r)) {
          return; // not queued for the actor (routed elsewhere already): nothing to drop
        }
      } else {
        unqueue(r);
      }
      fail(r, "TaskCancelledError", cancelledMessage(r));
      dispatch();
    } else if (force) {
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

  static String cancelledMessage(TaskRecord r) {
    return "Task " + r.spec.getName() + " (" + Ids.hex(r.id()) + ") was cancelled.";
  }

  // ---------------------------------------------------------------- for the actor supervisor

  WorkerHandle worker(ByteString workerId) {
    return workers.get(workerId);
  }

  TaskRecord task(ByteString taskId) {
    return tasks.get(taskId);
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

  ObjectDirectory objects() {
    return objects;
  }

  ControlGateway control() {
    return control;
  }

  // ---------------------------------------------------------------- workers

  private static WorkerKey defaultKey(ByteString jobId) {
    return new WorkerKey(jobId, "");
  }

  private void startWorker(WorkerKey key) {
    workers.start(key, environments.getOrDefault(key, RuntimeEnv.getDefaultInstance()));
  }

  /** A worker process opened its channel. Returns false if the node does not expect it. */
  public void workerAttached(WorkerHello hello, StreamObserver<NodeMessage> channel) {
    loop.execute(
        () -> {
          WorkerHandle w = workers.get(hello.getWorkerId());
          JobTable.Job job = w == null ? null : jobs.running(w.jobId);
          if (w == null || w.state != WorkerHandle.State.STARTING || job == null) {
            try {
              channel.onNext(
                  NodeMessage.newBuilder().setExit(ExitWorker.getDefaultInstance()).build());
              channel.onCompleted();
            } catch (RuntimeException ignored) {
              // gone already
            }
            return;
          }
          w.channel = channel;
          w.pid = hello.getPid();
          clientStreams.put(w.workerId, new ClientStream());
          LOG.info(
              "worker {} (pid {}) attached {} ms after start",
              Ids.shortHex(w.workerId),
              w.pid,
              System.currentTimeMillis() - w.startedAtMs);
          w.state = WorkerHandle.State.IDLE;
          w.idleSinceMs = System.currentTimeMillis();
          w.send(
              NodeMessage.newBuilder()
                  .setSetup(
                      WorkerSetup.newBuilder()
                          .setNodeId(config.nodeId())
                          .setNodeIp(config.nodeIp())
                          .setArenaPath(arena.path().toString())
                          .setArenaCapacity(arena.capacity())
                          .setMaxInlineBytes(config.maxInlineBytes())
                          .setJobId(w.jobId)
                          .setJobConfig(job.config)
                          .setControlAddress(control.address())
                          .setRuntimeEnv(
                              environments.getOrDefault(w.key, RuntimeEnv.getDefaultInstance()))
                          .setSessionDir(config.sessionDir().toString())
                          .build())
                  .build());
          if (!job.whenWorkersReady.isEmpty()
              && workers.count(defaultKey(job.jobId), false) >= job.prestartTarget) {
            List<Runnable> ready = new ArrayList<>(job.whenWorkersReady);
            job.whenWorkersReady.clear();
            ready.forEach(Runnable::run);
          }
          dispatch();
        });
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

  /** A worker's process exited or its channel broke. Idempotent. */
  public void workerGone(ByteString workerId, String why) {
    loop.execute(() -> workerGoneOnLoop(workerId, why));
  }

  private void workerGoneOnLoop(ByteString workerId, String why) {
    WorkerHandle w = workers.get(workerId);
    if (w == null) {
      return;
    }
    boolean expected = w.state == WorkerHandle.State.DEAD;
    workers.remove(workerId);
    TaskRecord r = w.currentTask == null ? null : tasks.get(w.currentTask);
    if (!expected) {
      LOG.warn("worker {} (pid {}) died: {}", Ids.shortHex(workerId), w.pid, why);
    }
    boolean hostedActor = actors.workerGone(w, why);
    if (!hostedActor && r != null && r.worker == w) {
      releaseWorker(w, r);
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
    releaseParked(workerId);
    objects.dropClient(workerId);
    actors.ownerGone(workerId);
    dispatch();
  }

  /** Stops a worker on purpose (its job ended, max_calls, or idle beyond the soft limit). */
  void retireWorker(WorkerHandle w) {
    w.state = WorkerHandle.State.DEAD;
    w.send(NodeMessage.newBuilder().setExit(ExitWorker.getDefaultInstance()).build());
    workers.kill(w);
    // Its death is handled like any other, on a later turn of the loop (the caller may be in the
    // middle of walking the actors or the pool).
    workerGone(w.workerId, "retired");
  }

  /** Kills a worker's process; its death is then handled as any other (actor restarts, retries). */
  void killWorker(WorkerHandle w) {
    workers.kill(w);
  }

  /** Starts workers until the job's task pool is back at its prestart size. */
  void replenishPool(ByteString jobId) {
    JobTable.Job job = jobs.running(jobId);
    if (job == null) {
      return;
    }
    WorkerKey key = defaultKey(jobId);
    for (int i = workers.count(key, true); i < job.prestartTarget; i++) {
      startWorker(key);
    }
  }

  /** Output a worker's Python wrote; forwarded to the job's driver. */
  public void workerOutput(ByteString workerId, WorkerOutput output) {
    loop.execute(
        () -> {
          WorkerHandle w = workers.get(workerId);
          if (w != null) {
            logs.publish(w.jobId, output.getLinesList());
          }
        });
  }

  /**
   * A worker running a task blocks in ray.get / ray.wait: its CPUs go back to the pool so that the
   * tasks it waits for can run (otherwise a full node deadlocks).
   */
  private void blocked(ByteString clientId) {
    WorkerHandle w = workers.get(clientId);
    TaskRecord r = w == null || w.currentTask == null ? null : tasks.get(w.currentTask);
    if (r == null || w.blockedDepth++ > 0) {
      return;
    }
    ledger.lendCpu(r.id());
    dispatch();
  }

  private void unblocked(ByteString clientId) {
    WorkerHandle w = workers.get(clientId);
    TaskRecord r = w == null || w.currentTask == null ? null : tasks.get(w.currentTask);
    if (r == null || w.blockedDepth == 0 || --w.blockedDepth > 0) {
      return;
    }
    // Take the CPUs back even if that oversubscribes the node for a while, as Ray does.
    ledger.reclaimCpu(r.id());
  }

  // ---------------------------------------------------------------- objects

  public void getObjects(GetObjectsRequest req, Reply<GetObjectsReply> reply) {
    onLoopAfterOps(
        reply, req.getClientId(), req.getAfterSeq(), () -> objectRequests.get(req, reply));
  }

  public void waitObjects(WaitObjectsRequest req, Reply<WaitObjectsReply> reply) {
    onLoopAfterOps(
        reply, req.getClientId(), req.getAfterSeq(), () -> objectRequests.await(req, reply));
  }

  public void createObject(CreateObjectRequest req, Reply<CreateObjectReply> reply) {
    onLoopAfterOps(
        reply, req.getClientId(), req.getAfterSeq(), () -> objectRequests.create(req, reply));
  }

  public void sealObject(SealObjectRequest req, Reply<SealObjectReply> reply) {
    onLoop(reply, () -> objectRequests.seal(req, reply));
  }

  public void getNodeResources(Reply<GetNodeResourcesReply> reply) {
    onLoop(
        reply,
        () ->
            reply.ok(
                GetNodeResourcesReply.newBuilder()
                    .putAllTotal(config.total().toMap())
                    .putAllAvailable(nonNegative(ledger.available()))
                    .build()));
  }

  /**
   * Runs a request's handler on the loop; whatever it throws still answers the caller (bad input is
   * INVALID_ARGUMENT), so no client waits forever on a failed handler.
   */
  private void onLoop(Reply<?> reply, Runnable handler) {
    loop.execute(() -> guarded(reply, handler));
  }

  /** Like {@link #onLoop}, for a read that must see the caller's changes up to afterSeq. */
  private void onLoopAfterOps(
      Reply<?> reply, ByteString clientId, long afterSeq, Runnable handler) {
    loop.execute(() -> afterOps(clientId, afterSeq, () -> guarded(reply, handler)));
  }

  private static void guarded(Reply<?> reply, Runnable handler) {
    try {
      handler.run();
    } catch (IllegalArgumentException e) {
      reply.fail(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
    } catch (RuntimeException e) {
      LOG.error("request handler failed", e);
      reply.fail(Status.INTERNAL.withDescription(e.toString()));
    }
  }

  // ---------------------------------------------------------------- upkeep

  private void housekeeping() {
    control.reportResources(config.nodeId(), nonNegative(ledger.available()));
    // Workers beyond the soft limit that sit idle go away, oldest first.
    int alive = workers.alive();
    long now = System.currentTimeMillis();
    for (WorkerHandle w : workers.all()) {
      if (alive <= config.workerSoftLimit()) {
        break;
      }
      JobTable.Job job = jobs.get(w.jobId);
      int floor = job == null || !w.key.envHash().isEmpty() ? 0 : job.prestartTarget;
      if (w.state == WorkerHandle.State.IDLE
          && now - w.idleSinceMs > IDLE_WORKER_KILL_MS
          && workers.count(w.key, true) > floor) {
        retireWorker(w);
        alive--;
      }
    }
  }

  private static Map<String, Double> nonNegative(ResourceSet set) {
    Map<String, Double> out = new LinkedHashMap<>();
    set.toMap().forEach((k, v) -> out.put(k, Math.max(0.0, v)));
    return out;
  }

  /** Free resources now (on the loop; for tests). */
  ResourceSet available() {
    return ledger.available();
  }

  /** Checks the resource ledger's invariant (tests call it after every scenario). */
  void checkLedger() {
    ledger.checkInvariant();
  }

  /** Stops every worker, unmaps and deletes the arena. Blocks until done. */
  @Override
  public void close() {
    java.util.concurrent.CompletableFuture<List<WorkerHandle>> stopped =
        new java.util.concurrent.CompletableFuture<>();
    loop.execute(
        () -> {
          closed = true;
          stopped.complete(workers.drain());
        });
    try {
      WorkerPool.killAndWait(stopped.get(10, TimeUnit.SECONDS));
    } catch (Exception e) {
      LOG.warn("stopping workers: {}", e.toString());
    }
    workers.close();
    logs.close();
    loop.close();
    arena.close();
  }
}
