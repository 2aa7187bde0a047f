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
 * block small ones. A task that fits takes an idle worker of its key (job and environment), else a
 * worker already starting for that key, else asks for a new one; in the last two cases its
 * resources are set aside in the plan so that no more workers start than there are slots. A class
 * never gets more than its allowance (see {@link ClassCaps}). Tasks of one class are identical, so
 * the first that cannot proceed ends that class's turn.
 *
 * <p>Spillback: tasks of a class that stay queued because this node has no free room for them (or
 * never will: the demand exceeds its total) go to peers that have room, one task at a time to the
 * peer with the most free CPUs, each charged to that peer's room as it goes. Tasks held back by the
 * worker start budget or the class's cap stay: they run here soon. A demand that fits neither this
 * node's total nor any peer's is reported as infeasible. A SPREAD class is dealt round this node
 * and the peers with room instead (this node first); a PINNED class never leaves this node.
 */
public final class DispatchPlanner {
  private DispatchPlanner() {}

  /**
   * A class, how many of its tasks wait, and how many of them may start now (its cap allowance).
   */
  public record Queued(SchedulingClass schedulingClass, int count, int allowance) {
    public Queued(SchedulingClass schedulingClass, int count) {
      this(schedulingClass, count, Integer.MAX_VALUE);
    }
  }

  /**
   * What to do now: tasks to run per class (in plan order), workers to start per key, classes that
   * can never run here, and classes held back only by their cap.
   */
  public record Plan(
      Map<SchedulingClass, Integer> dispatch,
      Map<WorkerKey, Integer> workersToStart,
      List<SchedulingClass> infeasible,
      List<SchedulingClass> capped,
      Map<SchedulingClass, List<ByteString>> spill,
      int spreadTurn) {}

  /**
   * @param queue classes in priority order, with their waiting task counts
   * @param total the node's total resources
   * @param available resources free now
   * @param idleWorkers idle workers per key
   * @param startingWorkers workers starting per key (not yet able to take tasks)
   * @param startBudget how many more workers may be started now
   */
  public static Plan plan(
      List<Queued> queue,
      ResourceSet total,
      ResourceSet available,
      Map<WorkerKey, Integer> idleWorkers,
      Map<WorkerKey, Integer> startingWorkers,
      int startBudget) {
    return plan(queue, total, available, idleWorkers, startingWorkers, startBudget, List.of());
  }

  /**
   * As above, with the peers tasks may spill to ({@code peers}: their free room as this node sees
   * it; the list is not changed).
   */
  public static Plan plan(
      List<Queued> queue,
      ResourceSet total,
      ResourceSet available,
      Map<WorkerKey, Integer> idleWorkers,
      Map<WorkerKey, Integer> startingWorkers,
      int startBudget,
      List<ClusterView.Peer> peers) {
    return plan(queue, total, available, idleWorkers, startingWorkers, startBudget, peers, 0);
  }

  /**
   * As above; SPREAD classes are dealt from seat {@code spreadTurn} on (0: this node; the caller
   * keeps the plan's {@link Plan#spreadTurn} for the next plan, so that tasks submitted one at a
   * time go round the nodes too).
   */
  public static Plan plan(
      List<Queued> queue,
      ResourceSet total,
      ResourceSet available,
      Map<WorkerKey, Integer> idleWorkers,
      Map<WorkerKey, Integer> startingWorkers,
      int startBudget,
      List<ClusterView.Peer> peers,
      int spreadTurn) {
    int[] turn = {spreadTurn};
    Map<SchedulingClass, List<ByteString>> spill = new LinkedHashMap<>();
    Map<ByteString, ResourceSet> room = new LinkedHashMap<>();
    peers.forEach(p -> room.put(p.nodeId(), p.available()));
    Map<SchedulingClass, Integer> dispatch = new LinkedHashMap<>();
    List<SchedulingClass> infeasible = new ArrayList<>();
    List<SchedulingClass> capped = new ArrayList<>();
    Map<WorkerKey, Integer> toStart = new HashMap<>();
    Map<WorkerKey, Integer> idle = new HashMap<>(idleWorkers);
    Map<WorkerKey, Integer> starting = new HashMap<>(startingWorkers);
    ResourceSet free = available;
    int budget = startBudget;
    for (Queued q : queue) {
      SchedulingClass c = q.schedulingClass();
      ResourceSet demand = c.demand();
      WorkerKey key = c.workerKey();
      boolean here = total.contains(demand);
      boolean pinned = c.placement() == SchedulingClass.Placement.PINNED;
      if (!here && (pinned || peers.stream().noneMatch(p -> p.total().contains(demand)))) {
        infeasible.add(c);
        continue;
      }
      List<ByteString> spread = null;
      int local = q.count();
      if (c.placement() == SchedulingClass.Placement.SPREAD) {
        spread = new ArrayList<>();
        local = spread(q.count(), demand, here ? free : ResourceSet.EMPTY, room, spread, turn);
      }
      int n = here ? Math.min(local, q.allowance()) : 0;
      int i = 0;
      for (; i < n && free.contains(demand); i++) {
        if (idle.getOrDefault(key, 0) > 0) {
          idle.merge(key, -1, Integer::sum);
          dispatch.merge(c, 1, Integer::sum);
        } else if (starting.getOrDefault(key, 0) > 0) {
          starting.merge(key, -1, Integer::sum);
        } else if (budget > 0) {
          budget--;
          toStart.merge(key, 1, Integer::sum);
        } else {
          break;
        }
        free = free.minus(demand);
      }
      if (here && i == n && n < local && free.contains(demand)) {
        capped.add(c); // only the cap holds the rest back
      }
      if (spread != null) {
        if (!spread.isEmpty()) {
          spill.put(c, spread);
        }
      } else if (!pinned && (!here || !free.contains(demand))) {
        for (int left = q.count() - i; left > 0; left--) {
          ByteString to = roomiest(room, demand);
          if (to == null) {
            break;
          }
          room.put(to, room.get(to).minus(demand));
          spill.computeIfAbsent(c, k -> new ArrayList<>()).add(to);
        }
      }
    }
    return new Plan(dispatch, toStart, infeasible, capped, spill, turn[0]);
  }

  /**
   * SPREAD: deals {@code count} tasks round the nodes that have room, from seat {@code next[0]} (0:
   * this node, then the peers in order), each turn to the next node with room for one more; leaves
   * in {@code next[0]} the seat the next task would take. Adds the peers' shares to {@code out}
   * (charging {@code room}) and returns how many stay here.
   */
  private static int spread(
      int count,
      ResourceSet demand,
      ResourceSet localFree,
      Map<ByteString, ResourceSet> room,
      List<ByteString> out,
      int[] next) {
    List<ByteString> peers = new ArrayList<>(room.keySet());
    int seats = peers.size() + 1;
    int local = 0;
    int turn = next[0] % seats;
    ResourceSet here = localFree;
    for (int t = 0; t < count; t++) {
      boolean placed = false;
      for (int tries = 0; tries < seats && !placed; tries++) {
        int seat = turn++ % seats;
        if (seat == 0) {
          if (here.contains(demand)) {
            here = here.minus(demand);
            local++;
            placed = true;
          }
        } else {
          ByteString p = peers.get(seat - 1);
          if (room.get(p).contains(demand)) {
            room.put(p, room.get(p).minus(demand));
            out.add(p);
            placed = true;
          }
        }
      }
      if (!placed) {
        break; // no node has room: the rest wait here
      }
    }
    next[0] = turn % seats;
    return local;
  }

  /** The peer with room for {@code demand} that has the most free CPUs; null if none has room. */
  private static ByteString roomiest(Map<ByteString, ResourceSet> room, ResourceSet demand) {
    ByteString best = null;
    double bestCpus = -1;
    for (Map.Entry<ByteString, ResourceSet> e : room.entrySet()) {
      double cpus = e.getValue().get("CPU");
      if (e.getValue().contains(demand) && cpus > bestCpus) {
        best = e.getKey();
        bestCpus = cpus;
      }
    }
    return best;
  }
}
