package io.ray.engine.nodemanager.scheduling;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.rpc.Language;

/**
 * Tasks that are interchangeable for scheduling, as in Ray: same job and runtime environment (so
 * the same workers can run them), same resource demand, same function, same placement. Queues, the
 * planner and the per-class cap work per class, so planning costs grow with the number of classes,
 * not of tasks.
 *
 * @param envHash the task's runtime_env hash; empty for the job's default environment
 * @param functionId the function (or actor class) id; a parent and the children it waits for are
 *     different classes, so capping one never starves the other
 * @param placement where the class's tasks may run (its scheduling strategy)
 * @param language the language of the function: a Java task needs a Java worker
 */
public record SchedulingClass(
    ByteString jobId,
    ResourceSet demand,
    String envHash,
    ByteString functionId,
    Placement placement,
    Language language) {

  /** Where a class's tasks may run. */
  public enum Placement {
    /** Here while there is room, else on the peer with the most free CPUs (Ray's DEFAULT). */
    DEFAULT,
    /** Round the nodes that have room (Ray's SPREAD). */
    SPREAD,
    /** Only on the node whose queue holds them (NodeAffinitySchedulingStrategy to this node). */
    PINNED
  }

  public SchedulingClass(
      ByteString jobId, ResourceSet demand, String envHash, ByteString functionId) {
    this(jobId, demand, envHash, functionId, Placement.DEFAULT);
  }

  public SchedulingClass(
      ByteString jobId,
      ResourceSet demand,
      String envHash,
      ByteString functionId,
      Placement placement) {
    this(jobId, demand, envHash, functionId, placement, Language.PYTHON);
  }

  /**
   * The workers that can run this class: those of the job started for the same environment and
   * language.
   */
  public WorkerKey workerKey() {
    return new WorkerKey(jobId, envHash, language);
  }
}
