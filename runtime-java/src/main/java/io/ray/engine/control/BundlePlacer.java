package io.ray.engine.control;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a placement group's bundles go, by Ray's four strategies. All or nothing: either every
 * bundle not yet placed gets a node with room for it, or the answer is null and the group waits.
 *
 * <ul>
 *   <li>STRICT_PACK: every bundle on one node (the one already holding some, if any).
 *   <li>PACK: as STRICT_PACK when one node has room for all; else as few nodes as it can, filling
 *       the nodes the group already uses first.
 *   <li>STRICT_SPREAD: every bundle on a different node.
 *   <li>SPREAD: on different nodes while there are some with room, then on the least used ones.
 * </ul>
 *
 * Among equal choices the node with the most free CPUs wins, then the first in the control
 * service's order. Pure function.
 */
public final class BundlePlacer {
  /** A node's id and the resources it has free for bundles. */
  public record Node(ByteString id, ResourceSet available) {}

  public static final List<String> STRATEGIES =
      List.of("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD");

  private BundlePlacer() {}

  /**
   * Nodes for the bundles whose {@code placed} entry is null.
   *
   * @param placed per bundle, the node it is on already, or null
   * @return bundle index to node for the unplaced bundles, or null when they cannot all be placed
   */
  public static Map<Integer, ByteString> place(
      String strategy, List<ResourceSet> bundles, List<ByteString> placed, List<Node> nodes) {
    Map<ByteString, ResourceSet> free = new LinkedHashMap<>();
    for (Node n : nodes) {
      free.put(n.id(), n.available());
    }
    Map<ByteString, Integer> used = new HashMap<>();
    List<Integer> todo = new ArrayList<>();
    for (int i = 0; i < bundles.size(); i++) {
      if (placed.get(i) == null) {
        todo.add(i);
      } else {
        used.merge(placed.get(i), 1, Integer::sum);
      }
    }
    return switch (strategy) {
      case "STRICT_PACK" -> packOnOne(bundles, todo, used.keySet(), free);
      case "PACK" -> {
        Map<Integer, ByteString> one = packOnOne(bundles, todo, used.keySet(), free);
        yield one != null ? one : greedy(bundles, todo, used, free, true, false);
      }
      case "STRICT_SPREAD" -> greedy(bundles, todo, used, free, false, true);
      case "SPREAD" -> greedy(bundles, todo, used, free, false, false);
      default -> throw new IllegalArgumentException("unknown placement strategy " + strategy);
    };
  }

  /** Every bundle on one node: the one the group uses (if exactly one), else any with room. */
  private static Map<Integer, ByteString> packOnOne(
      List<ResourceSet> bundles,
      List<Integer> todo,
      Set<ByteString> usedNodes,
      Map<ByteString, ResourceSet> free) {
    ResourceSet sum = ResourceSet.EMPTY;
    for (int i : todo) {
      sum = sum.plus(bundles.get(i));
    }
    List<ByteString> candidates = new ArrayList<>(usedNodes.isEmpty() ? free.keySet() : usedNodes);
    if (usedNodes.size() > 1) {
      return null;
    }
    candidates.sort(byFreeCpu(free));
    for (ByteString node : candidates) {
      ResourceSet room = free.get(node);
      if (room != null && room.contains(sum)) {
        Map<Integer, ByteString> out = new LinkedHashMap<>();
        todo.forEach(i -> out.put(i, node));
        return out;
      }
    }
    return null;
  }

  /**
   * One bundle at a time, largest first: {@code pack} prefers nodes the group already uses,
   * otherwise unused nodes come first; {@code strict} never reuses a node.
   */
  private static Map<Integer, ByteString> greedy(
      List<ResourceSet> bundles,
      List<Integer> todo,
      Map<ByteString, Integer> used,
      Map<ByteString, ResourceSet> free,
      boolean pack,
      boolean strict) {
    Map<ByteString, ResourceSet> room = new LinkedHashMap<>(free);
    Map<ByteString, Integer> count = new HashMap<>(used);
    Map<Integer, ByteString> out = new LinkedHashMap<>();
    List<Integer> order = new ArrayList<>(todo);
    order.sort(
        Comparator.comparingDouble((Integer i) -> -bundles.get(i).get("CPU"))
            .thenComparing(i -> i));
    Set<ByteString> taken = new HashSet<>(used.keySet());
    for (int i : order) {
      ResourceSet b = bundles.get(i);
      ByteString best = null;
      for (ByteString node : room.keySet()) {
        if (!room.get(node).contains(b) || (strict && taken.contains(node))) {
          continue;
        }
        if (best == null || better(node, best, count, room, pack)) {
          best = node;
        }
      }
      if (best == null) {
        return null;
      }
      out.put(i, best);
      room.put(best, room.get(best).minus(b));
      count.merge(best, 1, Integer::sum);
      taken.add(best);
    }
    return out;
  }

  private static boolean better(
      ByteString a,
      ByteString b,
      Map<ByteString, Integer> count,
      Map<ByteString, ResourceSet> room,
      boolean pack) {
    int ca = count.getOrDefault(a, 0);
    int cb = count.getOrDefault(b, 0);
    if (ca != cb) {
      return pack ? ca > cb : ca < cb;
    }
    return room.get(a).get("CPU") > room.get(b).get("CPU");
  }

  private static Comparator<ByteString> byFreeCpu(Map<ByteString, ResourceSet> free) {
    return Comparator.comparingDouble(
        (ByteString n) -> -(free.containsKey(n) ? free.get(n).get("CPU") : 0));
  }
}
