package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.objects.ObjectDirectory;
import io.ray.engine.nodemanager.workers.WorkerHandle;
import io.ray.engine.nodemanager.workers.WorkerPool;
import io.ray.engine.rpc.TaskFinished;
import io.ray.engine.rpc.TaskSpec;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The node as its actor supervisor sees it: tasks through the {@link TaskScheduler}, workers
 * through the {@link WorkerPool}, and the node manager's own retire and replenish steps. The
 * scheduler and the object directory are created after the supervisor (they refer to it), hence the
 * suppliers; nothing is called before the node manager is built. Used on its loop only.
 */
final class NodeActorHost implements ActorHost {
  private final NodeConfig config;
  private final Supplier<ObjectDirectory> objects;
  private final ControlGateway control;
  private final Supplier<TaskScheduler> scheduler;
  private final WorkerPool workers;
  private final Consumer<WorkerHandle> retire;
  private final Consumer<ByteString> replenish;

  NodeActorHost(
      NodeConfig config,
      Supplier<ObjectDirectory> objects,
      ControlGateway control,
      Supplier<TaskScheduler> scheduler,
      WorkerPool workers,
      Consumer<WorkerHandle> retire,
      Consumer<ByteString> replenish) {
    this.config = config;
    this.objects = objects;
    this.control = control;
    this.scheduler = scheduler;
    this.workers = workers;
    this.retire = retire;
    this.replenish = replenish;
  }

  @Override
  public NodeConfig config() {
    return config;
  }

  @Override
  public ObjectDirectory objects() {
    return objects.get();
  }

  @Override
  public ControlGateway control() {
    return control;
  }

  @Override
  public TaskRecord task(ByteString taskId) {
    return scheduler.get().task(taskId);
  }

  @Override
  public void fail(TaskRecord r, String errorType, String message) {
    scheduler.get().fail(r, errorType, message);
  }

  @Override
  public void finish(TaskRecord r) {
    scheduler.get().finish(r);
  }

  @Override
  public void enqueue(TaskRecord r) {
    scheduler.get().enqueue(r);
  }

  @Override
  public void unqueue(TaskRecord r) {
    scheduler.get().unqueue(r);
  }

  @Override
  public void endLease(TaskRecord r) {
    scheduler.get().endLease(r);
  }

  @Override
  public void storeReturns(TaskFinished done) {
    scheduler.get().storeReturns(done);
  }

  @Override
  public TaskSpec withResolvedArgs(TaskSpec spec, WorkerHandle w) {
    return scheduler.get().withResolvedArgs(spec, w);
  }

  @Override
  public void holdForActor(ByteString actorId, ResourceSet resources) {
    scheduler.get().holdForActor(actorId, resources);
  }

  @Override
  public void releaseActor(ByteString actorId) {
    scheduler.get().releaseActor(actorId);
  }

  @Override
  public WorkerHandle worker(ByteString workerId) {
    return workers.get(workerId);
  }

  @Override
  public void retireWorker(WorkerHandle w) {
    retire.accept(w);
  }

  @Override
  public void killWorker(WorkerHandle w) {
    workers.kill(w);
  }

  @Override
  public void replenishPool(ByteString jobId) {
    replenish.accept(jobId);
  }

  @Override
  public boolean hostAlive(ByteString node) {
    return scheduler.get().peerAlive(node);
  }

  @Override
  public boolean forwardCall(TaskRecord call, ByteString node) {
    return scheduler.get().forwardActorCall(call, node);
  }

  @Override
  public void endRemote(
      ByteString node,
      io.ray.engine.nodemanager.actors.LocalActor<TaskRecord> actor,
      boolean noRestart) {
    scheduler.get().endRemoteActor(node, actor, noRestart);
  }
}
