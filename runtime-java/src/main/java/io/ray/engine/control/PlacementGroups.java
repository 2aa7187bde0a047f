package io.ray.engine.control;

import com.google.protobuf.ByteString;
import io.ray.engine.common.Ids;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.rpc.Bundle;
import io.ray.engine.rpc.NodeInfo;
import io.ray.engine.rpc.PlacementGroupInfo;
import io.ray.engine.rpc.PlacementGroupState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's placement groups: their table, and their placement on nodes. A new group is
 * recorded PENDING and placed as soon as the nodes' reports show room for it ({@link
 * BundlePlacer}), in two phases: every chosen node prepares its bundles (takes their resources out
 * of its free pool), then every one commits them (they become the group's resources, which tasks of
 * the group ask for). If any node refuses or fails, what was prepared is given back and the group
 * waits for the next report. Bundles on a node that dies are placed again (RESCHEDULING); a group
 * is removed on request, or with its job unless detached.
 *
 * <p>Owned by the control service's loop; answers from nodes come back through {@code loop}.
 */
final class PlacementGroups {
  private static final Logger LOG = LoggerFactory.getLogger(PlacementGroups.class);

  enum Phase {
    PREPARE,
    COMMIT,
    RETURN
  }

  /** The node managers' bundle calls ({@code done} gets false when the node refused or failed). */
  interface BundleNodes {
    void call(
        String address, Phase phase, List<Bundle> bundles, boolean removed, Consumer<Boolean> done);
  }

  private static final class Group {
    final PlacementGroupInfo.Builder info;

    /** A placement's calls are out: no other placement of this group starts meanwhile. */
    boolean inFlight;

    Group(PlacementGroupInfo.Builder info) {
      this.info = info;
    }

    boolean removed() {
      return info.getState() == PlacementGroupState.REMOVED;
    }
  }

  private final Map<ByteString, Group> groups = new LinkedHashMap<>();
  private final List<ByteString> removedIds = new ArrayList<>();
  private final ControlState state;
  private final BundleNodes nodes;
  private final Executor loop;

  /** Resources of bundles prepared on a node since its last report, which does not show them. */
  private final Map<ByteString, ResourceSet> unreported = new HashMap<>();

  PlacementGroups(ControlState state, BundleNodes nodes, Executor loop) {
    this.state = state;
    this.nodes = nodes;
    this.loop = loop;
  }

  /** Records a new group and starts placing it; returns why it was refused, or "". */
  String create(PlacementGroupInfo info) {
    if (groups.containsKey(info.getPlacementGroupId())) {
      return "";
    }
    if (!info.getName().isEmpty()) {
      for (Group g : groups.values()) {
        if (!g.removed()
            && g.info.getName().equals(info.getName())
            && g.info.getRayNamespace().equals(info.getRayNamespace())) {
          return "Failed to create placement group '"
              + info.getName()
              + "' because a placement group with that name already exists in namespace '"
              + info.getRayNamespace()
              + "'.";
        }
      }
    }
    if (!BundlePlacer.STRATEGIES.contains(info.getStrategy())) {
      return "Invalid placement group strategy " + info.getStrategy();
    }
    PlacementGroupInfo.Builder b =
        info.toBuilder().setState(PlacementGroupState.PENDING).clearBundleNodes();
    for (int i = 0; i < info.getBundlesCount(); i++) {
      b.addBundleNodes(ByteString.EMPTY);
    }
    Group g = new Group(b);
    groups.put(info.getPlacementGroupId(), g);
    schedule(g);
    return "";
  }

  /** Removes a group: its bundles are given back and its waiting tasks fail. */
  void remove(ByteString groupId) {
    Group g = groups.get(groupId);
    if (g == null || g.removed()) {
      return;
    }
    g.info.setState(PlacementGroupState.REMOVED);
    removedIds.add(groupId);
    Map<ByteString, List<Bundle>> held = placedByNode(g);
    for (int i = 0; i < g.info.getBundleNodesCount(); i++) {
      g.info.setBundleNodes(i, ByteString.EMPTY);
    }
    fanOut(held, Phase.RETURN, true, ok -> {});
    LOG.info("placement group {} removed", Ids.hex(groupId));
  }

  /** Groups by id, by name in a namespace, or all (neither given). */
  List<PlacementGroupInfo> get(ByteString groupId, String name, String namespace) {
    List<PlacementGroupInfo> out = new ArrayList<>();
    for (Group g : groups.values()) {
      boolean match =
          !groupId.isEmpty()
              ? g.info.getPlacementGroupId().equals(groupId)
              : name.isEmpty()
                  || (!g.removed()
                      && g.info.getName().equals(name)
                      && g.info.getRayNamespace().equals(namespace));
      if (match) {
        out.add(g.info.build());
      }
    }
    return out;
  }

  /** Ids of the groups removed so far (nodes fail the tasks still waiting for them). */
  List<ByteString> removedIds() {
    return removedIds;
  }

  /** A node reported: its report shows what it prepared; waiting groups may fit now. */
  void nodeReported(ByteString nodeId) {
    unreported.remove(nodeId);
    for (Group g : new ArrayList<>(groups.values())) {
      schedule(g);
    }
  }

  /** A node died: the bundles it held are placed again elsewhere. */
  void nodeDead(ByteString nodeId) {
    unreported.remove(nodeId);
    for (Group g : groups.values()) {
      boolean lost = false;
      for (int i = 0; i < g.info.getBundleNodesCount(); i++) {
        if (g.info.getBundleNodes(i).equals(nodeId)) {
          g.info.setBundleNodes(i, ByteString.EMPTY);
          lost = true;
        }
      }
      if (lost && !g.removed()) {
        g.info.setState(PlacementGroupState.RESCHEDULING);
        LOG.warn(
            "placement group {} lost bundles with node {}; placing them again",
            Ids.hex(g.info.getPlacementGroupId()),
            Ids.shortHex(nodeId));
        schedule(g);
      }
    }
  }

  /** A job finished: its groups go too, unless detached (as in Ray). */
  void jobFinished(ByteString jobId) {
    for (Group g : new ArrayList<>(groups.values())) {
      if (g.info.getCreatorJobId().equals(jobId) && !g.info.getDetached()) {
        remove(g.info.getPlacementGroupId());
      }
    }
  }

  private void schedule(Group g) {
    PlacementGroupState s = g.info.getState();
    if (g.inFlight || (s != PlacementGroupState.PENDING && s != PlacementGroupState.RESCHEDULING)) {
      return;
    }
    List<BundlePlacer.Node> alive = new ArrayList<>();
    Set<ByteString> aliveIds = new HashSet<>();
    for (NodeInfo n : state.nodes()) {
      if (n.getAlive()) {
        ResourceSet room = ResourceSet.of(n.getAvailableResourcesMap());
        alive.add(
            new BundlePlacer.Node(
                n.getNodeId(),
                room.minus(unreported.getOrDefault(n.getNodeId(), ResourceSet.EMPTY))));
        aliveIds.add(n.getNodeId());
      }
    }
    List<ResourceSet> bundles = new ArrayList<>();
    List<ByteString> placed = new ArrayList<>();
    for (int i = 0; i < g.info.getBundlesCount(); i++) {
      bundles.add(ResourceSet.of(g.info.getBundles(i).getResourcesMap()));
      ByteString at = g.info.getBundleNodes(i);
      placed.add(at.isEmpty() || !aliveIds.contains(at) ? null : at);
    }
    Map<Integer, ByteString> plan =
        BundlePlacer.place(g.info.getStrategy(), bundles, placed, alive);
    if (plan == null || plan.isEmpty()) {
      return;
    }
    Map<ByteString, List<Bundle>> chosen = new LinkedHashMap<>();
    plan.forEach(
        (i, node) ->
            chosen.computeIfAbsent(node, k -> new ArrayList<>()).add(g.info.getBundles(i)));
    g.inFlight = true;
    fanOut(
        chosen,
        Phase.PREPARE,
        false,
        prepared -> {
          prepared.forEach(
              node -> {
                ResourceSet sum = ResourceSet.EMPTY;
                for (Bundle b : chosen.get(node)) {
                  sum = sum.plus(ResourceSet.of(b.getResourcesMap()));
                }
                unreported.merge(node, sum, ResourceSet::plus);
              });
          if (prepared.size() < chosen.size() || g.removed()) {
            abandon(g, chosen, prepared);
            return;
          }
          // Recorded before the commits go out: a task of the group may run (and its caller look
          // at the table) as soon as one node has committed.
          PlacementGroupState before = g.info.getState();
          plan.forEach((i, node) -> g.info.setBundleNodes(i, node));
          g.info.setState(PlacementGroupState.CREATED);
          fanOut(
              chosen,
              Phase.COMMIT,
              false,
              committed -> {
                if (committed.size() < chosen.size() || g.removed()) {
                  if (!g.removed()) {
                    plan.forEach((i, node) -> g.info.setBundleNodes(i, ByteString.EMPTY));
                    g.info.setState(before);
                  }
                  abandon(g, chosen, chosen.keySet());
                  return;
                }
                g.inFlight = false;
                LOG.info(
                    "placement group {} created ({}, {} bundles)",
                    Ids.hex(g.info.getPlacementGroupId()),
                    g.info.getStrategy(),
                    g.info.getBundlesCount());
              });
        });
  }

  /** A placement failed half-way (or the group was removed meanwhile): give back what it took. */
  private void abandon(Group g, Map<ByteString, List<Bundle>> chosen, Set<ByteString> took) {
    Map<ByteString, List<Bundle>> back = new LinkedHashMap<>();
    took.forEach(node -> back.put(node, chosen.get(node)));
    fanOut(back, Phase.RETURN, g.removed(), ok -> {});
    g.inFlight = false;
  }

  /** The group's placed bundles by node. */
  private static Map<ByteString, List<Bundle>> placedByNode(Group g) {
    Map<ByteString, List<Bundle>> out = new LinkedHashMap<>();
    for (int i = 0; i < g.info.getBundleNodesCount(); i++) {
      ByteString node = g.info.getBundleNodes(i);
      if (!node.isEmpty()) {
        out.computeIfAbsent(node, k -> new ArrayList<>()).add(g.info.getBundles(i));
      }
    }
    return out;
  }

  /** Calls every node; {@code done} gets, on the loop, the nodes that answered ok. */
  private void fanOut(
      Map<ByteString, List<Bundle>> byNode,
      Phase phase,
      boolean removed,
      Consumer<Set<ByteString>> done) {
    Set<ByteString> ok = new HashSet<>();
    int[] left = {byNode.size()};
    if (left[0] == 0) {
      done.accept(ok);
      return;
    }
    byNode.forEach(
        (node, bundles) -> {
          String address = address(node);
          Consumer<Boolean> answer =
              fine ->
                  loop.execute(
                      () -> {
                        if (fine) {
                          ok.add(node);
                        }
                        if (--left[0] == 0) {
                          done.accept(ok);
                        }
                      });
          if (address == null) {
            answer.accept(false);
          } else {
            nodes.call(address, phase, bundles, removed, answer);
          }
        });
  }

  private String address(ByteString nodeId) {
    for (NodeInfo n : state.nodes()) {
      if (n.getNodeId().equals(nodeId)) {
        return n.getAlive() ? n.getNodeIp() + ":" + n.getNodeManagerPort() : null;
      }
    }
    return null;
  }
}
