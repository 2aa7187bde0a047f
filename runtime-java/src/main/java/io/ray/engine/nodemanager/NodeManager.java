package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.Ids;
import io.ray.engine.common.PeerChannels;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.jobs.JobTable;
import io.ray.engine.nodemanager.objects.ObjectDirectory;
import io.ray.engine.nodemanager.objects.ObjectRequests;
import io.ray.engine.nodemanager.scheduling.WorkerKey;
import io.ray.engine.nodemanager.workers.WorkerHandle;
import io.ray.engine.nodemanager.workers.WorkerLauncher;
import io.ray.engine.nodemanager.workers.WorkerPool;
import io.ray.engine.rpc.*;
import io.ray.shm.SharedMemoryArena;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
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
 *
 * <p>Size: about 800 lines, above our ~600 guideline: it is the node's front door, one short method
 * per RPC or event, each posting to the component that does the work (scheduler, actors, objects,
 * transfers, jobs). Splitting the RPC entry points by service is the way to shrink it.
 */
public final class NodeManager implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeManager.class);
  private static final long PRESTART_WAIT_MS = 60_000;
  private static final long IDLE_WORKER_KILL_MS = 1_000;

  private final NodeConfig config;
  private final EventLoop loop;
  private final SharedMemoryArena arena;

  /** Set on the loop when the node starts closing. */
  private boolean closed;

  /** Channels to the other nodes, and the objects moving over them. */
  private final PeerChannels peers = new PeerChannels();

  private final ObjectTransfers transfers;

  private final ObjectDirectory objects;
  private final WorkerLauncher launcher;
  private final ControlGateway control;
  private final LogPublisher logs;
  private final ObjectRequests objectRequests;

  private final WorkerPool workers;
  private final JobTable jobs = new JobTable();

  /** Change streams of attached drivers and workers, by client id. */
  private final ClientStreams clientStreams = new ClientStreams();

  /** Actors hosted here; a collaborator on this loop. */
  private final ActorSupervisor actors;

  /** Tasks, their queue, dispatch and the resource ledger; a collaborator on this loop. */
  private final TaskScheduler scheduler;

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
    this.workers =
        new WorkerPool(loop, launcher, config.workerStartTimeoutMs(), this::workerGoneOnLoop);
    this.arena = SharedMemoryArena.create(config.arenaPath(), config.arenaCapacity());
    this.actors =
        new ActorSupervisor(
            new NodeActorHost(
                config,
                this::objects,
                control,
                this::scheduler,
                workers,
                this::retireWorker,
                this::replenishPool));
    this.objects = new ObjectDirectory(e -> arena.free(e.payloadOffset()), this::objectRemoved);
    this.logs = new LogPublisher(control, config.nodeIp(), loop);
    this.transfers = new ObjectTransfers(loop, objects, arena, peers, config.nodeId());
    this.objectRequests =
        new ObjectRequests(
            loop,
            objects,
            arena,
            new ObjectRequests.Lending() {
              @Override
              public void blocked(ByteString client) {
                scheduler.blocked(client);
              }

              @Override
              public void unblocked(ByteString client) {
                scheduler.unblocked(client);
              }
            });
    objectRequests.useDrivers(
        client -> {
          JobTable.Driver d = jobs.driver(client);
          return d == null ? null : d.jobId();
        });
    this.scheduler =
        new TaskScheduler(
            config,
            loop,
            objects,
            objectRequests,
            workers,
            jobs,
            actors,
            logs,
            control,
            peers,
            transfers);
    loop.scheduleAtFixedRate(this::housekeeping, 1, TimeUnit.SECONDS);
    control.onClusterView(view -> loop.execute(() -> clusterView(view)));
  }

  /**
   * The control service answered a resource report: queued tasks may spill to the other nodes, and
   * jobs that ended elsewhere end here (those with no driver of their own on this node).
   */
  private void clusterView(ReportNodeStateReply view) {
    if (closed) {
      return;
    }
    java.util.Set<ByteString> running = new java.util.HashSet<>(view.getRunningJobsList());
    for (ByteString jobId : jobs.ids()) {
      if (!running.contains(jobId) && !jobs.hasDriver(jobId) && jobs.get(jobId).config != null) {
        endJob(jobId);
      }
    }
    // A job that started elsewhere gets warm workers here too, as the driver's node gives it,
    // so that the first tasks it spills here do not wait for worker JVMs to start.
    if (view.getNodesCount() > 0) {
      running.forEach(this::warm);
    }
    if (view.getRemovedPlacementGroupsCount() > 0) {
      scheduler.placementGroups().removed(view.getRemovedPlacementGroupsList());
    }
    scheduler.clusterView(view.getNodesList());
  }

  /** A job this node has not seen yet gets its default workers started. */
  private void warm(ByteString jobId) {
    if (jobs.get(jobId) == null) {
      jobs.getOrCreate(jobId);
      withJob(jobId, this::prestart, missing -> jobs.end(jobId));
    }
  }

  /** A peer's driver started a job: warm workers for it here (see {@link #clusterView}). */
  public void jobStarted(JobStartedRequest req, Reply<JobStartedReply> reply) {
    onLoop(
        reply,
        () -> {
          if (!closed) {
            warm(req.getJobId());
          }
          reply.ok(JobStartedReply.getDefaultInstance());
        });
  }

  /** The control service's calls about placement group bundles. */
  enum BundlePhase {
    PREPARE,
    COMMIT,
    RETURN
  }

  /** The control service places a placement group's bundles here (two phases) or takes them. */
  public void bundles(BundlesRequest req, BundlePhase phase, Reply<BundlesReply> reply) {
    onLoop(
        reply,
        () -> {
          boolean ok =
              switch (phase) {
                case PREPARE ->
                    !closed && scheduler.placementGroups().prepare(req.getBundlesList());
                case COMMIT -> scheduler.placementGroups().commit(req.getBundlesList());
                case RETURN -> {
                  scheduler.placementGroups().giveBack(req.getBundlesList(), req.getRemoved());
                  yield true;
                }
              };
          reply.ok(BundlesReply.newBuilder().setOk(ok).build());
        });
  }

  /** A peer node hands over a task (spillback); the answer comes when it has ended here. */
  public void forwardTask(ForwardTaskRequest req, Reply<ForwardTaskReply> reply) {
    TaskSpec spec = req.getSpec();
    onLoop(
        reply,
        () ->
            withJob(
                spec.getJobId(),
                job ->
                    scheduler.acceptForwarded(
                        spec, req.getFromNodeId(), req.getNestedList(), reply),
                missing -> reply.ok(ForwardTaskReply.newBuilder().setRejected(missing).build())));
  }

  /** Another node pulls an object from this one (called on the loop: the server's thread). */
  public void pullObject(
      PullObjectRequest req,
      io.grpc.stub.ServerCallStreamObserver<io.ray.engine.rpc.ObjectChunk> out) {
    loop.checkInLoop();
    transfers.serve(req, out);
  }

  public void endForwardedActor(EndForwardedActorRequest req, Reply<EndForwardedActorReply> reply) {
    onLoop(
        reply,
        () -> {
          scheduler.endForwardedActor(req);
          reply.ok(EndForwardedActorReply.getDefaultInstance());
        });
  }

  /** An object's entry went away (told by the directory; acted on after its change is done). */
  private void objectRemoved(ByteString id) {
    loop.execute(
        () -> {
          actors.objectRemoved(id);
          scheduler.objectRemoved(id);
        });
  }

  /** A peer no longer needs objects this node kept for it. */
  public void releaseObjects(ReleaseObjectsRequest req, Reply<ReleaseObjectsReply> reply) {
    onLoop(
        reply,
        () -> {
          for (ByteString id : req.getObjectIdsList()) {
            objects.addClientRef(id, req.getNodeId(), -1);
          }
          reply.ok(ReleaseObjectsReply.getDefaultInstance());
        });
  }

  /** The peer that forwarded a task went away or cancelled it. */
  public void forwardCancelled(ByteString taskId) {
    loop.execute(() -> scheduler.forwardCancelled(taskId));
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
          if (jobs.get(jobId) == null) {
            scheduler.announceJob(jobId); // the peers warm its workers now
          }
          jobs.attach(new JobTable.Driver(req.getClientId(), jobId, req.getPid()));
          clientStreams.open(req.getClientId());
          withJob(
              jobId,
              job -> {
                Runnable welcome = () -> sendWelcome(job, events);
                int target = prestart(job);
                WorkerKey key = defaultKey(job);
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

  /** Starts the job's default workers up to the node's soft limit; returns that target. */
  private int prestart(JobTable.Job job) {
    int target = config.workerSoftLimit();
    job.prestartTarget = Math.max(job.prestartTarget, target);
    WorkerKey key = defaultKey(job);
    for (int i = workers.count(key, true); i < target; i++) {
      startWorker(key);
    }
    return target;
  }

  private void sendWelcome(JobTable.Job job, StreamObserver<DriverEvent> events) {
    NodeWelcome welcome =
        NodeWelcome.newBuilder()
            .setNodeId(config.nodeId())
            .setNodeIp(config.nodeIp())
            .setArenaPath(arena.path().toString())
            .setArenaCapacity(arena.capacity())
            .setMaxInlineBytes(config.maxInlineBytes())
            .setReadyWorkers(workers.count(defaultKey(job), false))
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
          objectRequests.forget(clientId);
          objects.dropClient(clientId);
          scheduler.generators.callerGone(clientId);
          actors.ownerGone(clientId);
          scheduler.ownerGone(clientId);
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
    scheduler.endJob(jobId);
    for (WorkerHandle w : workers.all()) {
      if (w.jobId.equals(jobId) && !actors.hostsDetachedActor(w)) {
        retireWorker(w);
      }
    }
    // The job's log streams end with finishJob: only after its last lines are out.
    logs.afterQueued(() -> control.finishJob(jobId));
    scheduler.dispatch();
  }

  // ---------------------------------------------------------------- tasks

  /**
   * Applies a client's next ClientOps message: its actions (submissions, puts) in order, then
   * reference increments, then decrements (so no change in the message frees what another keeps),
   * then serves the reads that waited for it.
   */
  public void clientOps(ByteString clientId, ClientOps ops) {
    loop.execute(() -> offerOps(clientId, List.of(ops)));
  }

  /**
   * Takes messages of a client's stream (from the stream itself, or carried by a read) and applies
   * every one that is next in seq order.
   */
  private void offerOps(ByteString clientId, List<ClientOps> messages) {
    if (messages.isEmpty()) {
      return;
    }
    if (!clientStreams.isOpen(clientId)) {
      LOG.warn("ops from unknown client {}", Ids.shortHex(clientId));
      return;
    }
    boolean submitted = false;
    for (ClientOps ops : messages) {
      List<ClientOps> ready;
      try {
        ready = clientStreams.offer(clientId, ops);
      } catch (IllegalStateException e) {
        LOG.error("client {}: {}; disconnecting it", Ids.shortHex(clientId), e.getMessage());
        disconnect(clientId);
        return;
      }
      for (ClientOps m : ready) {
        submitted |= apply(clientId, m);
        clientStreams.applied(clientId, m.getSeq()).forEach(Runnable::run);
      }
    }
    if (submitted) {
      scheduler.dispatch();
    }
  }

  /** Applies one message of a client's stream; returns whether it submitted tasks. */
  private boolean apply(ByteString clientId, ClientOps ops) {
    boolean submitted = false;
    for (ClientAction action : ops.getActionsList()) {
      if (action.hasSubmit()) {
        scheduler.submit(action.getSubmit());
        submitted = true;
      } else if (action.hasReturnLease()) {
        scheduler.returnLease(clientId, action.getReturnLease().getLeaseId());
        submitted = true; // its resources may start queued tasks
      } else if (action.hasKillActor()) {
        actors.kill(action.getKillActor());
      } else if (action.hasDirectFinished()) {
        // A direct call's end, forwarded by its caller after its registration (same stream).
        WorkerHandle w = workers.get(action.getDirectFinished().getWorkerId());
        if (w != null) {
          scheduler.taskFinished(w, action.getDirectFinished().getFinished());
          submitted = true; // a leased worker or the actor may take the next task
        }
      } else if (action.hasDirectCallFailed()) {
        DirectCallFailed f = action.getDirectCallFailed();
        scheduler.directCallFailed(f.getTaskId(), f.getReason());
      } else if (action.hasCancelTask()) {
        CancelTask c = action.getCancelTask();
        scheduler.cancel(c.getTaskId(), c.getForce(), c.getRecursive());
      } else if (action.hasGeneratorItem()) {
        GeneratorItem item = action.getGeneratorItem();
        scheduler.generators.item(item.getTaskId(), item.getIndex(), item.getCallerId());
      } else if (action.hasDropGenerator()) {
        DropGenerator drop = action.getDropGenerator();
        scheduler.generators.drop(drop.getTaskId(), clientId, drop.getConsumed());
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
    return submitted;
  }

  /** A client whose stream is broken beyond repair leaves as if it had died. */
  private void disconnect(ByteString clientId) {
    WorkerHandle w = workers.get(clientId);
    if (w != null) {
      workers.kill(w);
    } else {
      detachDriver(clientId, () -> {});
    }
  }

  /** Runs {@code read} once the client's changes up to {@code afterSeq} are applied. */
  private void afterOps(ByteString clientId, long afterSeq, Runnable read) {
    clientStreams.afterOps(clientId, afterSeq, read);
  }

  /** A departing client's parked reads are served with what there is (nobody is listening). */
  private void releaseParked(ByteString clientId) {
    clientStreams.close(clientId).forEach(Runnable::run);
  }

  // ---------------------------------------------------------------- for the actor supervisor

  private TaskScheduler scheduler() {
    return scheduler;
  }

  /** The node's objects (for tests and the actor host). */
  ObjectDirectory objects() {
    return objects;
  }

  /** A task this node knows (for tests). */
  TaskRecord task(ByteString taskId) {
    return scheduler.task(taskId);
  }

  // ---------------------------------------------------------------- workers

  /** The job's default workers: its default environment, in its driver's language. */
  private static WorkerKey defaultKey(JobTable.Job job) {
    return new WorkerKey(
        job.jobId, "", job.config == null ? Language.PYTHON : job.config.getDriverLanguage());
  }

  private void startWorker(WorkerKey key) {
    workers.start(key, scheduler.environment(key));
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
          w.directAddress = hello.getDirectAddress();
          clientStreams.open(w.workerId);
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
                          .setRuntimeEnv(scheduler.environment(w.key))
                          .setSessionDir(config.sessionDir().toString())
                          .build())
                  .build());
          if (!job.whenWorkersReady.isEmpty()
              && workers.count(defaultKey(job), false) >= job.prestartTarget) {
            List<Runnable> ready = new ArrayList<>(job.whenWorkersReady);
            job.whenWorkersReady.clear();
            ready.forEach(Runnable::run);
          }
          scheduler.dispatch();
        });
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
    if (!expected) {
      LOG.warn("worker {} (pid {}) died: {}", Ids.shortHex(workerId), w.pid, why);
    }
    if (!actors.workerGone(w, why)) {
      scheduler.workerDied(w, why);
    }
    releaseParked(workerId);
    objects.dropClient(workerId);
    scheduler.generators.callerGone(workerId);
    actors.ownerGone(workerId);
    scheduler.ownerGone(workerId); // the workers it leased for its tasks' tasks
    scheduler.dispatch();
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

  /** Starts workers until the job's task pool is back at its prestart size. */
  void replenishPool(ByteString jobId) {
    JobTable.Job job = jobs.running(jobId);
    if (job == null) {
      return;
    }
    WorkerKey key = defaultKey(job);
    for (int i = workers.count(key, true); i < job.prestartTarget; i++) {
      startWorker(key);
    }
  }

  /** A worker reports the end of its task. */
  public void taskFinished(ByteString workerId, TaskFinished done) {
    loop.execute(
        () -> {
          WorkerHandle w = workers.get(workerId);
          if (w == null) {
            return;
          }
          if (!done.getDirectOwnerId().isEmpty() && scheduler.task(done.getTaskId()) == null) {
            // A direct call's end can overtake the owner's registration of it: apply it once the
            // owner's message is applied, keeping the refs nested in its returns alive meanwhile.
            List<ByteString> held = scheduler.holdNestedRefs(done);
            afterOps(
                done.getDirectOwnerId(),
                done.getDirectOwnerSeq(),
                () -> {
                  scheduler.taskFinished(w, done);
                  scheduler.releaseHeld(held);
                  scheduler.dispatch();
                });
          } else {
            scheduler.taskFinished(w, done);
          }
          if (done.getWorkerExiting()) {
            // max_calls reached, or the task called sys.exit(): a planned exit, not a crash.
            retireWorker(w);
          }
          scheduler.dispatch();
        });
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

  // ---------------------------------------------------------------- objects

  public void getObjects(GetObjectsRequest req, Reply<GetObjectsReply> reply) {
    loop.execute(
        () -> {
          offerOps(req.getClientId(), req.getOpsList());
          afterBoth(
              req.getFenceClientId(),
              req.getFenceSeq(),
              req.getClientId(),
              req.getAfterSeq(),
              () -> guarded(reply, () -> objectRequests.get(req, reply)));
        });
  }

  /** The next item of a streaming generator, for its caller (after the caller's changes). */
  public void nextGeneratorItem(NextGeneratorItemRequest req, Reply<NextGeneratorItemReply> reply) {
    loop.execute(
        () -> {
          offerOps(req.getClientId(), req.getOpsList());
          afterOps(
              req.getClientId(),
              req.getAfterSeq(),
              () -> guarded(reply, () -> scheduler.generators.next(req, reply)));
        });
  }

  public void waitObjects(WaitObjectsRequest req, Reply<WaitObjectsReply> reply) {
    loop.execute(
        () -> {
          offerOps(req.getClientId(), req.getOpsList());
          afterBoth(
              req.getFenceClientId(),
              req.getFenceSeq(),
              req.getClientId(),
              req.getAfterSeq(),
              () -> guarded(reply, () -> objectRequests.await(req, reply)));
        });
  }

  public void createObject(CreateObjectRequest req, Reply<CreateObjectReply> reply) {
    loop.execute(
        () ->
            afterBoth(
                req.getFenceClientId(),
                req.getFenceSeq(),
                req.getClientId(),
                req.getAfterSeq(),
                () -> guarded(reply, () -> objectRequests.create(req, reply))));
  }

  /**
   * Runs {@code read} once another client's changes up to {@code fenceSeq} (a direct call's owner;
   * empty id: none) and then the caller's own up to {@code afterSeq} are applied.
   */
  private void afterBoth(
      ByteString fenceClient, long fenceSeq, ByteString client, long afterSeq, Runnable read) {
    afterOps(fenceClient, fenceSeq, () -> afterOps(client, afterSeq, read));
  }

  /** Where callers push direct calls to an actor, once it is alive (empty until then). */
  public void getActorAddress(GetActorAddressRequest req, Reply<GetActorAddressReply> reply) {
    onLoopAfterOps(
        reply,
        req.getClientId(),
        req.getOpsList(),
        req.getAfterSeq(),
        () -> {
          WorkerHandle w = actors.directTarget(req.getActorId(), req.getClientId());
          reply.ok(
              w == null
                  ? GetActorAddressReply.getDefaultInstance()
                  : GetActorAddressReply.newBuilder()
                      .setAddress(w.directAddress)
                      .setWorkerId(w.workerId)
                      .build());
        });
  }

  public void leaseWorker(LeaseWorkerRequest req, Reply<LeaseWorkerReply> reply) {
    onLoopAfterOps(
        reply,
        req.getClientId(),
        req.getOpsList(),
        req.getAfterSeq(),
        () -> {
          WorkerLeases.Lease l = scheduler.lease(req.getClientId(), req.getShape());
          reply.ok(
              l == null
                  ? LeaseWorkerReply.getDefaultInstance()
                  : LeaseWorkerReply.newBuilder()
                      .setLeaseId(l.id)
                      .setAddress(l.worker.directAddress)
                      .build());
        });
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
                    .putAllTotal(scheduler.total().toMap())
                    .putAllAvailable(scheduler.available().toNonNegativeMap())
                    // As Ray: the store's free bytes, not a resource tasks reserve.
                    .putAvailable(
                        OBJECT_STORE_MEMORY,
                        (double)
                            Math.max(
                                0,
                                (long) scheduler.total().get(OBJECT_STORE_MEMORY) - arena.used()))
                    .build()));
  }

  private static final String OBJECT_STORE_MEMORY = "object_store_memory";

  /**
   * Runs a request's handler on the loop; whatever it throws still answers the caller (bad input is
   * INVALID_ARGUMENT), so no client waits forever on a failed handler.
   */
  private void onLoop(Reply<?> reply, Runnable handler) {
    loop.execute(() -> guarded(reply, handler));
  }

  /** Like {@link #onLoop}, for a read that must see the caller's changes up to afterSeq. */
  private void onLoopAfterOps(
      Reply<?> reply,
      ByteString clientId,
      List<ClientOps> carried,
      long afterSeq,
      Runnable handler) {
    loop.execute(
        () -> {
          offerOps(clientId, carried);
          afterOps(clientId, afterSeq, () -> guarded(reply, handler));
        });
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
    scheduler.report();
    // Workers beyond the soft limit that sit idle go away, oldest first.
    int alive = workers.alive();
    long now = System.currentTimeMillis();
    for (WorkerHandle w : workers.all()) {
      if (alive <= config.workerSoftLimit()) {
        break;
      }
      JobTable.Job job = jobs.get(w.jobId);
      int floor = job == null || !w.key.equals(defaultKey(job)) ? 0 : job.prestartTarget;
      if (w.state == WorkerHandle.State.IDLE
          && now - w.idleSinceMs > IDLE_WORKER_KILL_MS
          && workers.count(w.key, true) > floor) {
        retireWorker(w);
        alive--;
      }
    }
  }

  /** Free resources now (on the loop; for tests). */
  ResourceSet available() {
    return scheduler.available();
  }

  /** Checks the resource ledger's invariant (tests call it after every scenario). */
  void checkLedger() {
    scheduler.checkLedger();
  }

  /** Stops every worker, unmaps and deletes the arena. Blocks until done. */
  @Override
  public void close() {
    java.util.concurrent.CompletableFuture<List<WorkerHandle>> stopped =
        new java.util.concurrent.CompletableFuture<>();
    loop.execute(
        () -> {
          closed = true;
          scheduler.close();
          stopped.complete(workers.drain());
        });
    try {
      WorkerPool.killAndWait(stopped.get(10, TimeUnit.SECONDS));
    } catch (Exception e) {
      LOG.warn("stopping workers: {}", e.toString());
    }
    workers.close();
    peers.close();
    logs.close();
    loop.close();
    arena.close();
  }
}
