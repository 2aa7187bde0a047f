package io.ray.engine.control;

import com.google.protobuf.ByteString;
import io.ray.engine.common.Ids;
import io.ray.engine.rpc.ActorInfo;
import io.ray.engine.rpc.ActorState;
import io.ray.engine.rpc.JobConfig;
import io.ray.engine.rpc.NodeInfo;
import io.ray.engine.rpc.ResourceDemand;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The control service's tables: nodes, jobs, functions and the key-value store. Pure state, no I/O;
 * owned by the control service's event loop (see {@link ControlServiceImpl}).
 *
 * <p>Invariants: a node id appears once in {@code nodes}, in registration order; job ids are handed
 * out from 1 upward and never reused; a function is stored under (job, content id).
 */
public final class ControlState {

  /** A node that has not reported for this long is declared dead. */
  public static final long NODE_TIMEOUT_MS = 10_000;

  private static final class NodeEntry {
    NodeInfo info;
    long lastReportMs;

    NodeEntry(NodeInfo info, long now) {
      this.info = info;
      this.lastReportMs = now;
    }
  }

  /** A job in the job table. */
  public record Job(ByteString jobId, JobConfig config, int driverPid, boolean finished) {}

  private final Map<ByteString, NodeEntry> nodes = new LinkedHashMap<>();
  private final Map<ByteString, Job> jobs = new LinkedHashMap<>();
  private int nextJob = 1;
  private final Map<ByteString, ByteString> functions = new HashMap<>();
  private final Map<String, TreeMap<ByteString, ByteString>> kv = new HashMap<>();

  /** The actor directory, in creation order. */
  private final Map<ByteString, ActorInfo> actors = new LinkedHashMap<>();

  /** (namespace, name) of actors that are not dead, to their ids. */
  private final Map<List<String>, ByteString> actorNames = new HashMap<>();

  public void registerNode(NodeInfo node, long nowMs) {
    nodes.put(node.getNodeId(), new NodeEntry(node.toBuilder().setAlive(true).build(), nowMs));
  }

  /** Records a node's report; false when the node is unknown or was declared dead. */
  public boolean reportNode(
      ByteString nodeId, Map<String, Double> available, Map<String, Double> queued, long nowMs) {
    return reportNode(nodeId, available, queued, List.of(), nowMs);
  }

  /** As above, with the node's queued tasks by shape. */
  public boolean reportNode(
      ByteString nodeId,
      Map<String, Double> available,
      Map<String, Double> queued,
      List<ResourceDemand> demands,
      long nowMs) {
    return reportNode(nodeId, Map.of(), available, queued, demands, nowMs);
  }

  /** As above, with the node's total now (empty: unchanged since it registered). */
  public boolean reportNode(
      ByteString nodeId,
      Map<String, Double> total,
      Map<String, Double> available,
      Map<String, Double> queued,
      List<ResourceDemand> demands,
      long nowMs) {
    NodeEntry e = nodes.get(nodeId);
    if (e == null || !e.info.getAlive()) {
      return false;
    }
    NodeInfo.Builder b = e.info.toBuilder();
    if (!total.isEmpty()) {
      b.clearTotalResources().putAllTotalResources(total);
    }
    e.info =
        b.clearAvailableResources()
            .putAllAvailableResources(available)
            .clearQueuedDemand()
            .putAllQueuedDemand(queued)
            .clearPendingDemands()
            .addAllPendingDemands(demands)
            .build();
    e.lastReportMs = nowMs;
    return true;
  }

  public void markNodeDead(ByteString nodeId) {
    NodeEntry e = nodes.get(nodeId);
    if (e != null) {
      e.info = e.info.toBuilder().setAlive(false).clearAvailableResources().build();
    }
  }

  /** Declares nodes dead that have been silent too long; returns their ids. */
  public List<ByteString> expireNodes(long nowMs) {
    List<ByteString> expired = new ArrayList<>();
    for (NodeEntry e : nodes.values()) {
      if (e.info.getAlive() && nowMs - e.lastReportMs > NODE_TIMEOUT_MS) {
        expired.add(e.info.getNodeId());
      }
    }
    expired.forEach(this::markNodeDead);
    return expired;
  }

  public List<NodeInfo> nodes() {
    List<NodeInfo> out = new ArrayList<>();
    nodes.values().forEach(e -> out.add(e.info));
    return out;
  }

  public ByteString registerJob(JobConfig config, int driverPid) {
    ByteString id = Ids.jobId(nextJob++);
    jobs.put(id, new Job(id, config, driverPid, false));
    return id;
  }

  public void finishJob(ByteString jobId) {
    jobs.computeIfPresent(jobId, (k, j) -> new Job(k, j.config(), j.driverPid(), true));
  }

  /** Ids of the jobs registered and not finished. */
  public List<ByteString> runningJobs() {
    List<ByteString> out = new ArrayList<>();
    jobs.values()
        .forEach(
            j -> {
              if (!j.finished()) {
                out.add(j.jobId());
              }
            });
    return out;
  }

  public Optional<Job> job(ByteString jobId) {
    return Optional.ofNullable(jobs.get(jobId));
  }

  public void putFunction(ByteString jobId, ByteString functionId, ByteString pickled) {
    functions.put(jobId.concat(functionId), pickled);
  }

  public Optional<ByteString> function(ByteString jobId, ByteString functionId) {
    return Optional.ofNullable(functions.get(jobId.concat(functionId)));
  }

  /**
   * Records a new actor and reserves its name.
   *
   * @return empty when recorded; else the live actor that already holds the name
   */
  public Optional<ActorInfo> registerActor(ActorInfo actor) {
    if (!actor.getName().isEmpty()) {
      List<String> key = List.of(actor.getRayNamespace(), actor.getName());
      ByteString holder = actorNames.get(key);
      if (holder != null) {
        return Optional.of(actors.get(holder));
      }
      actorNames.put(key, actor.getActorId());
    }
    actors.put(actor.getActorId(), actor);
    return Optional.empty();
  }

  /**
   * Applies a node's report of an actor's state. An actor first seen here (unnamed actors are not
   * registered in advance) is recorded; a dead actor's name becomes free.
   */
  public void updateActor(ActorInfo report) {
    ActorInfo known = actors.get(report.getActorId());
    ActorInfo merged =
        known == null
            ? report
            : known.toBuilder()
                .setState(report.getState())
                .setNodeId(report.getNodeId())
                .setPid(report.getPid())
                .setDeathCause(report.getDeathCause())
                .build();
    actors.put(merged.getActorId(), merged);
    if (merged.getState() == ActorState.DEAD && !merged.getName().isEmpty()) {
      actorNames.remove(List.of(merged.getRayNamespace(), merged.getName()), merged.getActorId());
    }
  }

  /** The live actor with this name, if any. */
  public Optional<ActorInfo> namedActor(String namespace, String name) {
    ByteString id = actorNames.get(List.of(namespace, name));
    return id == null ? Optional.empty() : Optional.of(actors.get(id));
  }

  public List<ActorInfo> actors() {
    return new ArrayList<>(actors.values());
  }

  /**
   * @return true when the key was new
   */
  public boolean kvPut(String ns, ByteString key, ByteString value, boolean overwrite) {
    TreeMap<ByteString, ByteString> table =
        kv.computeIfAbsent(ns, k -> new TreeMap<>(ByteString.unsignedLexicographicalComparator()));
    boolean exists = table.containsKey(key);
    if (!exists || overwrite) {
      table.put(key, value);
    }
    return !exists;
  }

  public Optional<ByteString> kvGet(String ns, ByteString key) {
    TreeMap<ByteString, ByteString> table = kv.get(ns);
    return table == null ? Optional.empty() : Optional.ofNullable(table.get(key));
  }

  public boolean kvDelete(String ns, ByteString key) {
    TreeMap<ByteString, ByteString> table = kv.get(ns);
    return table != null && table.remove(key) != null;
  }

  public List<ByteString> kvKeys(String ns, ByteString prefix) {
    List<ByteString> out = new ArrayList<>();
    TreeMap<ByteString, ByteString> table = kv.get(ns);
    if (table == null) {
      return out;
    }
    for (ByteString k : table.tailMap(prefix, true).keySet()) {
      if (!k.startsWith(prefix)) {
        break;
      }
      out.add(k);
    }
    return out;
  }
}
