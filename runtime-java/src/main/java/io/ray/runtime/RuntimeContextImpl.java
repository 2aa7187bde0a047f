package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.id.ActorId;
import io.ray.api.id.JobId;
import io.ray.api.id.TaskId;
import io.ray.api.id.UniqueId;
import io.ray.api.runtimecontext.ActorInfo;
import io.ray.api.runtimecontext.ActorState;
import io.ray.api.runtimecontext.NodeInfo;
import io.ray.api.runtimecontext.RuntimeContext;
import io.ray.api.runtimeenv.RuntimeEnv;
import java.util.List;

/** What Ray.getRuntimeContext() tells: the job, the node, the current task. Immutable. */
final class RuntimeContextImpl implements RuntimeContext {
  private final ByteString jobId;
  private final ByteString nodeId;
  private final ByteString taskId;
  private final String namespace;

  RuntimeContextImpl(ByteString jobId, ByteString nodeId, ByteString taskId, String namespace) {
    this.jobId = jobId;
    this.nodeId = nodeId;
    this.taskId = taskId;
    this.namespace = namespace;
  }

  private static UnsupportedOperationException notYet(String what) {
    return new UnsupportedOperationException(
        "RuntimeContext." + what + " is not supported by this Ray (Ray on the JVM) yet");
  }

  @Override
  public JobId getCurrentJobId() {
    return JobId.fromBytes(jobId.toByteArray());
  }

  @Override
  public TaskId getCurrentTaskId() {
    return taskId.isEmpty() ? TaskId.NIL : TaskId.fromBytes(taskId.toByteArray());
  }

  @Override
  public ActorId getCurrentActorId() {
    return ActorId.NIL;
  }

  @Override
  public <T extends io.ray.api.BaseActorHandle> T getCurrentActorHandle() {
    throw new IllegalStateException("getCurrentActorHandle is only for code running in an actor");
  }

  @Override
  public boolean wasCurrentActorRestarted() {
    return false;
  }

  @Override
  public boolean isLocalMode() {
    return false;
  }

  @Override
  public List<NodeInfo> getAllNodeInfo() {
    throw notYet("getAllNodeInfo");
  }

  @Override
  public List<ActorInfo> getAllActorInfo() {
    throw notYet("getAllActorInfo");
  }

  @Override
  public List<ActorInfo> getAllActorInfo(JobId jobId, ActorState actorState) {
    throw notYet("getAllActorInfo");
  }

  @Override
  public List<Long> getGpuIds() {
    return List.of();
  }

  @Override
  public String getNamespace() {
    return namespace;
  }

  @Override
  public UniqueId getCurrentNodeId() {
    return UniqueId.fromBytes(nodeId.toByteArray());
  }

  @Override
  public RuntimeEnv getCurrentRuntimeEnv() {
    throw notYet("getCurrentRuntimeEnv");
  }
}
