package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.actors.LocalActor;
import io.ray.engine.nodemanager.scheduling.SchedulingClass;
import io.ray.engine.nodemanager.workers.WorkerHandle;
import io.ray.engine.rpc.TaskSpec;
import java.util.ArrayList;
import java.util.List;

/** A task this node has accepted and not yet finished. Owned by the node manager's loop. */
final class TaskRecord {
  final TaskSpec spec;
  final ResourceSet demand;

  /** Objects this task keeps alive: reference arguments and refs nested in inline ones. */
  final List<ByteString> heldRefs = new ArrayList<>();

  int missingArgs;
  int retriesLeft;
  int attempt;
  WorkerHandle worker;

  /** Resources taken from the node for this task right now (less while its worker blocks). */
  ResourceSet held = ResourceSet.EMPTY;

  final SchedulingClass schedulingClass;

  /** The actor this task creates or calls; null for a plain task. */
  LocalActor<TaskRecord> actor;

  TaskRecord(TaskSpec spec) {
    this.spec = spec;
    this.demand = ResourceSet.of(spec.getResourcesMap());
    this.schedulingClass = new SchedulingClass(spec.getJobId(), demand);
    this.retriesLeft = spec.getMaxRetries();
    this.attempt = spec.getAttempt();
  }

  ByteString id() {
    return spec.getTaskId();
  }

  ByteString jobId() {
    return spec.getJobId();
  }

  boolean isActorCall() {
    return spec.hasActorTask();
  }
}
