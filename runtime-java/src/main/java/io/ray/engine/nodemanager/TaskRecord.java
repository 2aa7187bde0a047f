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

  /**
   * Whether the task holds a lease in the node's ledger (under its id) and counts as running in its
   * class's cap. Set by dispatch, cleared by {@code NodeManager.endLease}, the only place that
   * releases it.
   */
  boolean leased;

  /** The worker lease it runs under (pushed by its caller to a leased worker); null if none. */
  ByteString lease;

  /** The peer node this task was forwarded to and runs on (spillback); null if none. */
  ByteString forwardedTo;

  /** What this node charged to the peer's room for it (empty for an actor call). */
  ResourceSet forwardedDemand = ResourceSet.EMPTY;

  /**
   * The peer that ran this task and keeps its large returns (not pulled here yet); the record
   * stays, holding the arguments, so that the task can run again if that node is lost. Null if
   * none.
   */
  ByteString resultsAt;

  /** Whether a peer node forwarded this task here (it is not forwarded again). */
  boolean fromPeer;

  /** ray.cancel asked for this task: it is not retried, and its returns say it was cancelled. */
  boolean cancelled;

  final SchedulingClass schedulingClass;

  /** The actor this task creates or calls; null for a plain task. */
  LocalActor<TaskRecord> actor;

  TaskRecord(TaskSpec spec) {
    this.spec = spec;
    this.demand = ResourceSet.of(spec.getResourcesMap());
    this.schedulingClass =
        new SchedulingClass(
            spec.getJobId(),
            demand,
            spec.getRuntimeEnv().getHash(),
            spec.getFunction().getFunctionId(),
            switch (spec.getSchedulingStrategy().getKindCase()) {
              case SPREAD -> SchedulingClass.Placement.SPREAD;
              // Affinity to another node is handled before a task is queued: queued, it stays.
              case NODE_AFFINITY -> SchedulingClass.Placement.PINNED;
              default -> SchedulingClass.Placement.DEFAULT;
            },
            spec.getFunction().getLanguage());
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
