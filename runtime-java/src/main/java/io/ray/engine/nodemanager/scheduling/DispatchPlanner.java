package io.ray.engine.nodemanager.scheduling;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides, for a node, how many queued tasks of each scheduling class run now and how many workers
 * to start. A pure function of its inputs, so the policy is tested without processes or sockets.
 *
 * <p>Policy: classes are considered in order (the node orders them by their oldest task). A class
 * whose demand does not fit the free resources is skipped, not waited on, so a large task does not
 * block small ones. A task that fits takes an idle worker of its job, else a worker already
 * starting for the job, else asks for a new one; in the last two cases its resources are set aside
 * in the plan so that no more workers start than there are slots. Tasks of one class are identical,
 * so the first that cannot proceed ends that class's turn. A demand exceeding the node's total can
 * never run here and is reported as infeasible.
 */
public final class DispatchPlanner {
  private DispatchPlanner() {}

  /** A class and how many of its tasks wait. */
  public record Queued(SchedulingClass schedulingClass, int count) {}

  /** What to do now: tasks to run per class (in plan order), workers to start per job. */
  public record Plan(
      Map<SchedulingClass, Integer> dispatch,
      Map<ByteString, Integer> workersToStart,
      List<SchedulingClass> infeasible) {}

  /**
   * @param queue classes in priority order, with their waiting task counts
   * @param total the node's total resources
   * @param available resources free now
   * @param idleWorkers idle workers per job
   * @param startingWorkers workers starting per job (not yet able to take tasks)
   * @param startBudget how many more workers may be started now
   */
  public static Plan plan(
      List<Queued> queue,
      ResourceSet total,
      ResourceSet available,
      Map<ByteString, Integer> idleWorkers,
      Map<ByteString, Integer> startingWorkers,
      int startBudget) {
    Map<SchedulingClass, Integer> dispatch = new LinkedHashMap<>();
    List<SchedulingClass> infeasible = new ArrayList<>();
    Map<ByteString, Integer> toStart = new HashMap<>();
    Map<ByteString, Integer> idle = new HashMap<>(idleWorkers);
    Map<ByteString, Integer> starting = new HashMap<>(startingWorkers);
    ResourceSet free = available;
    int budget = startBudget;
    for (Queued q : queue) {
      SchedulingClass c = q.schedulingClass();
      ResourceSet demand = c.demand();
      ByteString job = c.jobId();
      if (!total.contains(demand)) {
        infeasible.add(c);
        continue;
      }
      for (int i = 0; i < q.count() && free.contains(demand); i++) {
        if (idle.getOrDefault(job, 0) > 0) {
          idle.merge(job, -1, Integer::sum);
          dispatch.merge(c, 1, Integer::sum);
        } else if (starting.getOrDefault(job, 0) > 0) {
          starting.merge(job, -1, Integer::sum);
        } else if (budget > 0) {
          budget--;
          toStart.merge(job, 1, Integer::sum);
        } else {
          break;
        }
        free = free.minus(demand);
      }
    }
    return new Plan(dispatch, toStart, infeasible);
  }
}
