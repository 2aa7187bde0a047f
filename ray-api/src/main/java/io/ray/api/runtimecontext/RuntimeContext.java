package io.ray.api.runtimecontext;

import io.ray.api.BaseActorHandle;
import io.ray.api.id.ActorId;
import io.ray.api.id.JobId;
import io.ray.api.id.TaskId;
import io.ray.api.id.UniqueId;
import io.ray.api.runtimeenv.RuntimeEnv;
import java.util.List;

/** What the running code can learn about where it runs: its job, task, actor, node and cluster. */
public interface RuntimeContext {

  /** The current job. */
  JobId getCurrentJobId();

  /** The task running now (in a driver: the driver's own task). */
  TaskId getCurrentTaskId();

  /**
   * The actor this code runs in.
   *
   * @throws IllegalStateException if not called inside an actor
   */
  ActorId getCurrentActorId();

  /** Whether the current actor was restarted after a failure (false on its first start). */
  boolean wasCurrentActorRestarted();

  /** Whether Ray runs everything in this one process. */
  boolean isLocalMode();

  /** Every node of the cluster. */
  List<NodeInfo> getAllNodeInfo();

  /** Every actor of the cluster. */
  List<ActorInfo> getAllActorInfo();

  /**
   * The actors of job {@code jobId} in state {@code actorState}; a null argument does not filter.
   */
  List<ActorInfo> getAllActorInfo(JobId jobId, ActorState actorState);

  /**
   * A handle to the actor this code runs in.
   *
   * @throws IllegalStateException if not called inside an actor
   */
  <T extends BaseActorHandle> T getCurrentActorHandle();

  /** The GPUs reserved for the current task or actor. */
  List<Long> getGpuIds();

  /** The namespace of the current job. */
  String getNamespace();

  /** The node this code runs on. */
  UniqueId getCurrentNodeId();

  /** The runtime environment of the current job, task or actor. */
  RuntimeEnv getCurrentRuntimeEnv();
}
