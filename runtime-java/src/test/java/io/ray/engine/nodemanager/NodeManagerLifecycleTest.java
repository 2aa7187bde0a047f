package io.ray.engine.nodemanager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.Ids;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.workers.WorkerLauncher;
import io.ray.engine.rpc.*;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node manager's life cycle without sockets or processes: a fake control service, a launcher
 * that starts nothing, and workers that are message queues driven by the test. Every scenario ends
 * with the resource ledger's invariant checked and, once the work is gone, every CPU free.
 *
 * <p>Size: one file on purpose, above our ~600-line guideline: every scenario shares the same fakes
 * and building blocks below.
 */
class NodeManagerLifecycleTest {
  private static final ByteString JOB = Ids.jobId(1);
  private static final ByteString DRIVER = Ids.random(Ids.UNIQUE_ID_SIZE);
  private static final ResourceSet TOTAL = ResourceSet.of(Map.of("CPU", 2.0));

  @TempDir Path dir;
  private EventLoop loop;
  private NodeManager node;
  private final FakeControl control = new FakeControl();
  private final FakeLauncher launcher = new FakeLauncher();
  private final Map<ByteString, FakeWorker> workers = new ConcurrentHashMap<>();
  private long driverSeq;

  @BeforeEach
  void start() throws Exception {
    loop = new EventLoop("test-node-manager");
    NodeConfig config =
        new NodeConfig(
            Ids.random(Ids.UNIQUE_ID_SIZE),
            "127.0.0.1",
            true,
            TOTAL,
            dir.resolve("arena"),
            16 << 20,
            100 * 1024,
            dir,
            dir.resolve("python.json"),
            60_000,
            "127.0.0.1:0");
    node = new NodeManager(config, loop, launcher, control);
    node.attachDriver(
        AttachDriverRequest.newBuilder().setClientId(DRIVER).setJobId(JOB).setPid(1).build(),
        new Sink<>());
    attachLaunched(2); // the job's prestarted workers
  }

  @AfterEach
  void stop() {
    settle();
    onLoop(
        () -> {
          node.checkLedger();
          return null;
        });
    node.close();
  }

  // ------------------------------------------------------------------ scenarios

  @Test
  void aJobThatEndsWhileItsTasksRunGivesBackTheirCpus() {
    TaskSpec a = submit(task("a", 1, 0));
    TaskSpec b = submit(task("b", 1, 0));
    assertNotNull(runningOn(a));
    assertNotNull(runningOn(b));
    assertEquals(0.0, available());
    node.detachDriver(DRIVER, () -> {});
    settle();
    assertEquals(2.0, available(), "the ended job's running tasks hold nothing");
    assertTrue(control.finishedJobs.contains(JOB));
  }

  @Test
  void aDriverKilledMidTaskAndMidActorCreationLeaksNothing() {
    TaskSpec t = submit(task("t", 1, 0));
    TaskSpec creation = submit(actorCreation("A", 0));
    assertNotNull(runningOn(t));
    assertNotNull(runningOn(creation));
    node.detachDriver(DRIVER, () -> {}); // the stream broke: same path as a kill
    settle();
    assertEquals(2.0, available());
  }

  @Test
  void aGetIsAnsweredAsSoonAsOneOfItsObjectsIsAnError() {
    TaskSpec slow = submit(task("slow", 1, 0));
    TaskSpec failing = submit(task("failing", 1, 0));
    FakeWorker failingWorker = runningOn(failing);
    assertNotNull(runningOn(slow));
    CapturingReply<GetObjectsReply> get = getReturns(slow, failing);
    settle();
    assertNull(get.result.getNow(null), "nothing to answer yet");
    ObjectValue error =
        ObjectValue.newBuilder()
            .setObjectId(Ids.returnId(failing.getTaskId(), 1))
            .setInline(
                InlineObject.newBuilder()
                    .setFormat(ObjectFormat.ERROR)
                    .setPayload(ByteString.copyFromUtf8("pickled error")))
            .build();
    node.taskFinished(
        failingWorker.id,
        TaskFinished.newBuilder()
            .setTaskId(failing.getTaskId())
            .setApplicationError(true)
            .addReturns(error)
            .build());
    settle();
    GetObjectsReply reply = get.result.getNow(null);
    assertNotNull(reply, "answered while the other task still runs");
    assertTrue(reply.getFailed());
    assertEquals(List.of(error), reply.getObjectsList(), "only the error is sent");
    // A get of the failed object with others pending is answered at once, too.
    CapturingReply<GetObjectsReply> again = getReturns(slow, failing);
    settle();
    assertTrue(again.result.getNow(GetObjectsReply.getDefaultInstance()).getFailed());
    node.taskFinished(runningOn(slow).id, finished(slow));
  }

  @Test
  void aCrashedWorkersTaskIsRetriedThenFails() {
    TaskSpec t = submit(task("t", 1, 1));
    FakeWorker first = runningOn(t);
    node.workerGone(first.id, "process exited with code 137");
    workers.remove(first.id);
    FakeWorker second = runningOn(t);
    assertTrue(second != first, "the retry runs on another worker");
    node.workerGone(second.id, "process exited with code 137");
    settle();
    assertEquals("WorkerCrashedError", errorOf(t));
    assertEquals(2.0, available());
  }

  @Test
  void anActorIsRestartedOnANewWorkerAndItsLeaseMovesWithIt() {
    TaskSpec creation = submit(actorCreation("A", 1));
    FakeWorker host = alive(creation);
    assertEquals(1.0, available(), "an actor with num_cpus=1 holds one CPU while it lives");
    FakeWorker again = diesAndRunsAgain(host, creation);
    assertTrue(again != host);
    assertEquals(1.0, available(), "still one CPU: the old lease was released, a new one taken");
    assertEquals(
        ActorState.ALIVE, control.actorStates.get(creation.getActorCreation().getActorId()));
  }

  @Test
  void anActorCreationCutShortReleasesItsPlacement() {
    TaskSpec creation = submit(actorCreation("A", 0));
    FakeWorker host = runningOn(creation);
    node.workerGone(host.id, "process exited with code 1");
    settle();
    assertEquals(
        ActorState.DEAD, control.actorStates.get(creation.getActorCreation().getActorId()));
    assertEquals(2.0, available());
  }

  @Test
  void aBlockedTaskLendsItsCpuUntilItsGetIsAnswered() {
    TaskSpec parent = submit(task("parent", 2, 0));
    FakeWorker w = runningOn(parent);
    // The parent submits a child and waits for it in ray.get.
    TaskSpec child = task("child", 1, 0);
    clientOps(w.id, 1, ClientAction.newBuilder().setSubmit(child.toBuilder().setCallerId(w.id)));
    CapturingReply<GetObjectsReply> get = new CapturingReply<>();
    node.getObjects(
        GetObjectsRequest.newBuilder()
            .setClientId(w.id)
            .addObjectIds(Ids.returnId(child.getTaskId(), 1))
            .setTimeoutMs(-1)
            .setAfterSeq(1)
            .build(),
        get);
    FakeWorker childWorker = runningOn(child);
    assertEquals(1.0, available(), "the parent lent its 2 CPUs; the child holds 1");
    node.taskFinished(childWorker.id, finished(child));
    settle();
    assertNotNull(get.result.getNow(null), "the get is answered");
    assertEquals(0.0, available(), "the parent took its CPUs back; the child's is free");
    node.taskFinished(w.id, finished(parent));
    settle();
    assertEquals(2.0, available());
  }

  @Test
  void cancellingAQueuedTaskDropsItAndARunningOneIsInterrupted() {
    TaskSpec a = submit(task("a", 2, 0));
    TaskSpec queued = submit(task("queued", 1, 0));
    FakeWorker w = runningOn(a);
    clientOps(
        DRIVER,
        ++driverSeq,
        ClientAction.newBuilder()
            .setCancelTask(CancelTask.newBuilder().setTaskId(queued.getTaskId())));
    clientOps(
        DRIVER,
        ++driverSeq,
        ClientAction.newBuilder().setCancelTask(CancelTask.newBuilder().setTaskId(a.getTaskId())));
    settle();
    assertEquals("TaskCancelledError", errorOf(queued));
    assertTrue(w.received.stream().anyMatch(NodeMessage::hasCancel), "the worker is interrupted");
    node.taskFinished(w.id, finished(a).toBuilder().setCancelled(true).build());
    settle();
    assertEquals(2.0, available());
  }

  @Test
  void aForcedCancelKillsTheWorkerAndIsNotRetried() {
    TaskSpec a = submit(task("a", 1, 3));
    FakeWorker w = runningOn(a);
    clientOps(
        DRIVER,
        ++driverSeq,
        ClientAction.newBuilder()
            .setCancelTask(CancelTask.newBuilder().setTaskId(a.getTaskId()).setForce(true)));
    settle();
    assertTrue(w.completed, "the worker's channel was ended");
    node.workerGone(w.id, "process exited with code 137");
    settle();
    assertEquals("TaskCancelledError", errorOf(a));
    assertEquals(2.0, available());
  }

  @Test
  void opsAfterAGapWaitForItAndAreThenAppliedInOrder() {
    TaskSpec t = task("t", 1, 0);
    clientOps(DRIVER, 3, ClientAction.newBuilder().setSubmit(t)); // 1 and 2 not yet here
    settle();
    assertEquals(null, onLoop(() -> node.task(t.getTaskId())), "not applied out of order");
    assertEquals(2.0, available());
    TaskSpec first = task("first", 1, 0);
    node.clientOps(DRIVER, ClientOps.newBuilder().setSeq(2).build());
    clientOps(DRIVER, 1, ClientAction.newBuilder().setSubmit(first));
    driverSeq = 3;
    assertNotNull(runningOn(first));
    assertNotNull(runningOn(t), "the early message is applied once the gap is filled");
  }

  @Test
  void aDirectCallsReportMayOvertakeItsRegistration() {
    TaskSpec creation = submit(actorCreation("A", 0));
    FakeWorker host = alive(creation);
    TaskSpec viaNode = submit(directCall(creation).toBuilder().setDirect(false).build());
    assertEquals(host, runningOn(viaNode));
    assertEquals("", actorAddress(creation), "a call of ours still runs: no overtaking it");
    node.taskFinished(host.id, finished(viaNode));
    settle();
    assertEquals("127.0.0.1:" + host.id.byteAt(0), actorAddress(creation));
    TaskSpec call = directCall(creation);
    long seq = driverSeq + 1;
    // The worker ran the pushed call and reports it before the driver's registration arrives.
    node.taskFinished(
        host.id,
        finished(call).toBuilder().setDirectOwnerId(DRIVER).setDirectOwnerSeq(seq).build());
    settle();
    assertEquals("", valueOf(call), "not applied before the owner's registration");
    submit(call);
    settle();
    assertEquals("v", valueOf(call));
    assertEquals(null, onLoop(() -> node.task(call.getTaskId())), "the call is done");
  }

  @Test
  void directCallsRunningOnAWorkerThatDiesFailWithTheActor() {
    TaskSpec creation = submit(actorCreation("A", 0));
    FakeWorker host = alive(creation);
    TaskSpec call = submit(directCall(creation));
    settle();
    assertTrue(
        host.received.stream().noneMatch(m -> m.hasExecute() && m.getExecute().equals(call)),
        "a direct call is not sent by the node");
    node.workerGone(host.id, "process exited with code 1");
    settle();
    assertEquals("ActorDiedError", errorOf(call));
  }

  @Test
  void aCallPushedToAnIncarnationThatDiedIsNotRunOnTheNextOne() {
    TaskSpec creation = submit(actorCreation("A", 1));
    FakeWorker first = alive(creation);
    // The driver pushed a call to the first incarnation, which died (maybe of that call) before
    // the node applied the call's registration; the actor restarted meanwhile.
    FakeWorker second = diesAndRunsAgain(first, creation);
    TaskSpec call = submit(directCall(creation).toBuilder().setPushedTo(first.id).build());
    settle();
    assertEquals("ActorDiedError", errorOf(call), "max_task_retries=0: it fails, as in Ray");
    assertTrue(
        second.received.stream()
            .noneMatch(m -> m.hasExecute() && m.getExecute().getTaskId().equals(call.getTaskId())));
  }

  @Test
  void aLeasedWorkerRunsPushedTasksUntilItsOwnerReturnsIt() {
    LeaseWorkerReply lease = lease(task("f", 1, 0));
    assertTrue(!lease.getLeaseId().isEmpty(), "an idle worker is leased at once");
    FakeWorker leased = workerAt(lease.getAddress());
    assertEquals(1.0, available(), "the lease holds its shape's CPU");
    TaskSpec t = submit(pushed(task("f", 1, 0), lease));
    settle();
    assertTrue(leased.received.stream().noneMatch(NodeMessage::hasExecute), "not sent by the node");
    node.taskFinished(leased.id, finished(t));
    settle();
    assertEquals("v", valueOf(t));
    assertEquals(1.0, available(), "the worker stays leased between tasks");
    returnLease(lease);
    settle();
    assertEquals(2.0, available());
    TaskSpec next = submit(task("g", 2, 0));
    assertNotNull(runningOn(next), "the returned worker takes tasks from the node again");
    node.taskFinished(runningOn(next).id, finished(next));
  }

  @Test
  void aReturnedLeaseEndsOnlyWhenItsTaskEnds() {
    LeaseWorkerReply lease = lease(task("f", 1, 0));
    TaskSpec t = submit(pushed(task("f", 1, 0), lease));
    returnLease(lease);
    settle();
    assertEquals(1.0, available(), "its task still runs");
    node.taskFinished(workerAt(lease.getAddress()).id, finished(t));
    settle();
    assertEquals(2.0, available());
  }

  @Test
  void noLeaseWhileTasksWaitInTheQueue() {
    submit(task("a", 1, 0));
    submit(task("b", 1, 0));
    submit(task("c", 1, 0));
    settle();
    assertEquals("", lease(task("f", 1, 0)).getAddress(), "queued tasks come first");
  }

  @Test
  void aLeasedWorkersDeathRetriesItsTaskThroughTheNode() {
    LeaseWorkerReply lease = lease(task("f", 1, 0));
    FakeWorker leased = workerAt(lease.getAddress());
    TaskSpec t = submit(pushed(task("f", 1, 1), lease));
    settle();
    diesAndRunsAgain(leased, t);
    assertEquals("v", valueOf(t));
    assertEquals(2.0, available(), "the lease ended with its worker");
  }

  @Test
  void aDriverThatLeavesGivesBackItsLeases() {
    LeaseWorkerReply lease = lease(task("f", 1, 0));
    submit(pushed(task("f", 1, 0), lease));
    LeaseWorkerReply idle = lease(task("g", 1, 0));
    assertTrue(!idle.getLeaseId().isEmpty());
    assertEquals(0.0, available());
    node.detachDriver(DRIVER, () -> {});
    settle();
    assertEquals(2.0, available());
  }

  @Test
  void aTaskEndForwardedByItsCallerEndsIt() {
    LeaseWorkerReply lease = lease(task("f", 1, 0));
    FakeWorker leased = workerAt(lease.getAddress());
    TaskSpec t = submit(pushed(task("f", 1, 0), lease));
    forwardEnd(leased, finished(t).toBuilder().setCallerReports(true).build());
    returnLease(lease);
    settle();
    assertEquals("v", valueOf(t), "the node serves the value to other processes");
    assertEquals(2.0, available(), "the task ended, and with it the returned lease");
  }

  @Test
  void aForwardedEndNamingAWorkerThatIsGoneIsDropped() {
    LeaseWorkerReply lease = lease(task("f", 1, 0));
    FakeWorker leased = workerAt(lease.getAddress());
    TaskSpec t = submit(pushed(task("f", 1, 1), lease));
    settle();
    node.workerGone(leased.id, "process exited with code 1");
    workers.remove(leased.id);
    FakeWorker again = runningOn(t);
    // The caller's answer from the dead worker arrived before it died; its forward comes late.
    forwardEnd(leased, finished(t).toBuilder().setCallerReports(true).build());
    settle();
    assertEquals("", valueOf(t), "the retry still runs: the stale end did not finish it");
    assertEquals(1.0, available());
    node.taskFinished(again.id, finished(t));
    settle();
    assertEquals("v", valueOf(t));
    assertEquals(2.0, available());
  }

  // ------------------------------------------------------------------ building blocks

  /** The driver forwards the end of a call pushed to {@code w} (TaskFinished.caller_reports). */
  private void forwardEnd(FakeWorker w, TaskFinished done) {
    clientOps(
        DRIVER,
        ++driverSeq,
        ClientAction.newBuilder()
            .setDirectFinished(DirectFinished.newBuilder().setWorkerId(w.id).setFinished(done)));
  }

  /** The driver's ray.get of the tasks' first returns, waiting for them without a timeout. */
  private CapturingReply<GetObjectsReply> getReturns(TaskSpec... tasks) {
    GetObjectsRequest.Builder req =
        GetObjectsRequest.newBuilder().setClientId(DRIVER).setTimeoutMs(-1).setAfterSeq(driverSeq);
    for (TaskSpec t : tasks) {
      req.addObjectIds(Ids.returnId(t.getTaskId(), 1));
    }
    CapturingReply<GetObjectsReply> reply = new CapturingReply<>();
    node.getObjects(req.build(), reply);
    return reply;
  }

  /** The actor's creation task ran and finished: the worker that hosts it now. */
  private FakeWorker alive(TaskSpec creation) {
    FakeWorker host = runningOn(creation);
    node.taskFinished(host.id, finished(creation));
    settle();
    return host;
  }

  /** {@code w}'s process dies; {@code t} runs again on another worker and finishes there. */
  private FakeWorker diesAndRunsAgain(FakeWorker w, TaskSpec t) {
    node.workerGone(w.id, "process exited with code 1");
    workers.remove(w.id);
    FakeWorker again = runningOn(t);
    node.taskFinished(again.id, finished(t));
    settle();
    return again;
  }

  private LeaseWorkerReply lease(TaskSpec shape) {
    CapturingReply<LeaseWorkerReply> reply = new CapturingReply<>();
    node.leaseWorker(
        LeaseWorkerRequest.newBuilder()
            .setClientId(DRIVER)
            .setAfterSeq(driverSeq)
            .setShape(shape)
            .build(),
        reply);
    settle();
    return reply.result.getNow(null);
  }

  private TaskSpec pushed(TaskSpec t, LeaseWorkerReply lease) {
    return t.toBuilder().setDirect(true).setLeaseId(lease.getLeaseId()).build();
  }

  private void returnLease(LeaseWorkerReply lease) {
    clientOps(
        DRIVER,
        ++driverSeq,
        ClientAction.newBuilder()
            .setReturnLease(ReturnLease.newBuilder().setLeaseId(lease.getLeaseId())));
  }

  private FakeWorker workerAt(String address) {
    for (FakeWorker w : workers.values()) {
      if (address.equals("127.0.0.1:" + w.id.byteAt(0))) {
        return w;
      }
    }
    throw new AssertionError("no worker at " + address);
  }

  private TaskSpec directCall(TaskSpec creation) {
    return task("call", 0, 0).toBuilder()
        .clearResources()
        .setDirect(true)
        .setActorTask(
            ActorTaskSpec.newBuilder()
                .setActorId(creation.getActorCreation().getActorId())
                .setMethodName("m")
                .setLifetimeObjectId(Ids.returnId(creation.getTaskId(), 1)))
        .build();
  }

  private String actorAddress(TaskSpec creation) {
    CapturingReply<GetActorAddressReply> address = new CapturingReply<>();
    node.getActorAddress(
        GetActorAddressRequest.newBuilder()
            .setClientId(DRIVER)
            .setActorId(creation.getActorCreation().getActorId())
            .setAfterSeq(driverSeq)
            .build(),
        address);
    settle();
    return address.result.getNow(null).getAddress();
  }

  /** The inline payload stored as the task's first return, as text ("" if none yet). */
  private String valueOf(TaskSpec t) {
    return onLoop(
        () -> {
          var e = node.objects().get(Ids.returnId(t.getTaskId(), 1));
          return e == null || !e.ready() || e.inline() == null
              ? ""
              : e.inline().getPayload().toStringUtf8();
        });
  }

  private TaskSpec task(String name, double cpus, int maxRetries) {
    return TaskSpec.newBuilder()
        .setTaskId(Ids.newTaskId(JOB))
        .setJobId(JOB)
        .setCallerId(DRIVER)
        .setFunction(FunctionDescriptor.newBuilder().setFunctionId(ByteString.copyFromUtf8(name)))
        .setNumReturns(1)
        .putResources("CPU", cpus)
        .setMaxRetries(maxRetries)
        .setName(name)
        .build();
  }

  private TaskSpec actorCreation(String className, int maxRestarts) {
    TaskSpec t = task(className, 1, 0);
    return t.toBuilder()
        .setActorCreation(
            ActorCreationSpec.newBuilder()
                .setActorId(Ids.random(16))
                .setMaxRestarts(maxRestarts)
                .setMaxConcurrency(1)
                .setClassName(className)
                .putLifetimeResources("CPU", maxRestarts > 0 ? 1.0 : 0.0))
        .build();
  }

  private TaskSpec submit(TaskSpec spec) {
    clientOps(DRIVER, ++driverSeq, ClientAction.newBuilder().setSubmit(spec));
    return spec;
  }

  private void clientOps(ByteString client, long seq, ClientAction.Builder action) {
    node.clientOps(client, ClientOps.newBuilder().setSeq(seq).addActions(action).build());
  }

  private static TaskFinished finished(TaskSpec t) {
    return TaskFinished.newBuilder()
        .setTaskId(t.getTaskId())
        .addReturns(
            ObjectValue.newBuilder()
                .setObjectId(Ids.returnId(t.getTaskId(), 1))
                .setInline(InlineObject.newBuilder().setPayload(ByteString.copyFromUtf8("v"))))
        .build();
  }

  /** The fake worker the task was sent to (waits for it). */
  private FakeWorker runningOn(TaskSpec t) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      settle();
      for (FakeWorker w : workers.values()) {
        if (w.runs(t.getTaskId())) {
          return w;
        }
      }
      attachLaunched(0);
    }
    throw new AssertionError("task " + t.getName() + " was not sent to a worker");
  }

  /** Attaches workers the node launched: at least {@code atLeast}, and any others waiting. */
  private void attachLaunched(int atLeast) {
    for (int i = 0; ; i++) {
      ByteString id;
      try {
        id = i < atLeast ? launcher.launched.poll(10, TimeUnit.SECONDS) : launcher.launched.poll();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      if (id == null) {
        assertTrue(i >= atLeast, "the node did not launch enough workers");
        return;
      }
      FakeWorker w = new FakeWorker(id);
      workers.put(id, w);
      node.workerAttached(
          WorkerHello.newBuilder()
              .setWorkerId(id)
              .setPid(1000 + i)
              .setDirectAddress("127.0.0.1:" + id.byteAt(0))
              .build(),
          w);
    }
  }

  /** The engine error stored as the task's first return, or "" if it holds a value. */
  private String errorOf(TaskSpec t) {
    return onLoop(
        () -> {
          var e = node.objects().get(Ids.returnId(t.getTaskId(), 1));
          if (e == null || !e.ready() || e.inline() == null) {
            return "";
          }
          if (e.inline().getFormat() != ObjectFormat.ENGINE_ERROR) {
            return "";
          }
          try {
            return ErrorInfo.parseFrom(e.inline().getPayload()).getErrorType();
          } catch (Exception ex) {
            throw new AssertionError(ex);
          }
        });
  }

  private double available() {
    return onLoop(() -> node.available().get("CPU"));
  }

  /** Lets the loop finish what is queued, including what that posts in turn. */
  private void settle() {
    for (int i = 0; i < 5; i++) {
      onLoop(() -> null);
    }
  }

  private <T> T onLoop(Supplier<T> body) {
    CompletableFuture<T> f = new CompletableFuture<>();
    loop.execute(
        () -> {
          try {
            f.complete(body.get());
          } catch (Throwable t) {
            f.completeExceptionally(t);
          }
        });
    try {
      return f.get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  // ------------------------------------------------------------------ fakes

  private static final class FakeControl implements ControlGateway {
    final List<ByteString> finishedJobs = new java.util.concurrent.CopyOnWriteArrayList<>();
    final Map<ByteString, ActorState> actorStates = new ConcurrentHashMap<>();

    @Override
    public String address() {
      return "127.0.0.1:1";
    }

    @Override
    public void getJob(ByteString jobId, java.util.function.Consumer<GetJobReply> done) {
      done.accept(
          GetJobReply.newBuilder()
              .setFound(true)
              .setConfig(JobConfig.getDefaultInstance())
              .build());
    }

    @Override
    public void finishJob(ByteString jobId) {
      finishedJobs.add(jobId);
    }

    @Override
    public void publishLogs(LogBatch batch, Runnable done) {
      done.run();
    }

    @Override
    public void reportActor(ActorInfo actor) {
      actorStates.put(actor.getActorId(), actor.getState());
    }

    @Override
    public void reportResources(
        ByteString nodeId,
        Map<String, Double> total,
        Map<String, Double> available,
        Map<String, Double> queued,
        java.util.List<ResourceDemand> demands) {}
  }

  /** Starts nothing: records the ids, and the test attaches a {@link FakeWorker} for each. */
  private static final class FakeLauncher implements WorkerLauncher {
    final LinkedBlockingQueue<ByteString> launched = new LinkedBlockingQueue<>();

    @Override
    public Process launch(
        ByteString workerId,
        ByteString jobId,
        Map<String, String> envVars,
        io.ray.engine.rpc.Language language) {
      launched.add(workerId);
      return null;
    }
  }

  /** A worker's channel as the node sees it: what the node sent, in order. */
  private static final class FakeWorker implements StreamObserver<NodeMessage> {
    final ByteString id;
    final List<NodeMessage> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile boolean completed;

    FakeWorker(ByteString id) {
      this.id = id;
    }

    boolean runs(ByteString taskId) {
      List<NodeMessage> all = new ArrayList<>(received);
      for (int i = all.size() - 1; i >= 0; i--) {
        if (all.get(i).hasExecute()) {
          return all.get(i).getExecute().getTaskId().equals(taskId);
        }
      }
      return false;
    }

    @Override
    public void onNext(NodeMessage m) {
      received.add(m);
    }

    @Override
    public void onError(Throwable t) {
      completed = true;
    }

    @Override
    public void onCompleted() {
      completed = true;
    }
  }

  private static final class Sink<T> implements StreamObserver<T> {
    @Override
    public void onNext(T value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  private static final class CapturingReply<T> implements Reply<T> {
    final CompletableFuture<T> result = new CompletableFuture<>();

    @Override
    public void ok(T value) {
      result.complete(value);
    }

    @Override
    public void fail(Status status) {
      result.completeExceptionally(status.asRuntimeException());
    }
  }
}
