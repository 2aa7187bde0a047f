package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.runtimecontext.RuntimeContext;
import io.ray.engine.rpc.WorkerSetup;

/**
 * The runtime inside a Java worker: tasks that call Ray's API (put, get, wait, submitting tasks)
 * use the worker's own connection to its node. Thread-safe.
 */
public final class WorkerRuntime extends JavaRuntime {
  private final WorkerSetup setup;

  public WorkerRuntime(ClientCore core, WorkerSetup setup) {
    super(core);
    this.setup = setup;
  }

  @Override
  public RuntimeContext getRuntimeContext() {
    return new RuntimeContextImpl(core.jobId, setup.getNodeId(), ByteString.EMPTY);
  }

  /** A worker's connection lives as long as the worker: Ray.shutdown() in a task does nothing. */
  @Override
  public void shutdown() {}
}
