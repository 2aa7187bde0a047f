package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.runtimecontext.RuntimeContext;
import io.ray.engine.rpc.ControlServiceGrpc;
import io.ray.engine.rpc.WorkerSetup;

/**
 * The runtime inside a Java worker: tasks that call Ray's API (put, get, wait, submitting tasks)
 * use the worker's own connection to its node. Thread-safe.
 */
public final class WorkerRuntime extends JavaRuntime {
  private final WorkerSetup setup;

  private volatile ByteString currentTask = ByteString.EMPTY;

  public WorkerRuntime(
      ClientCore core, WorkerSetup setup, ControlServiceGrpc.ControlServiceBlockingStub control) {
    super(
        core,
        setup.getNodeId(),
        setup.getJobConfig().getRayNamespace().isEmpty()
            ? "anonymous-" + io.ray.engine.common.Ids.hex(setup.getJobId())
            : setup.getJobConfig().getRayNamespace(),
        control);
    this.setup = setup;
  }

  /** The task running now (its submissions are its children). */
  public void setCurrentTask(ByteString taskId) {
    currentTask = taskId;
  }

  @Override
  protected ByteString parentTaskId() {
    return currentTask;
  }

  @Override
  public RuntimeContext getRuntimeContext() {
    return new RuntimeContextImpl(core.jobId, setup.getNodeId(), currentTask, namespace);
  }

  /** Ends the actor this worker hosts once the current call returns (the caller sees it die). */
  @Override
  public void exitActor() {
    throw new io.ray.api.exception.RayIntentionalSystemExitException("Ray.exitActor() was called");
  }

  /** A worker's connection lives as long as the worker: Ray.shutdown() in a task does nothing. */
  @Override
  public void shutdown() {}
}
