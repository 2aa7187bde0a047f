package io.ray.engine.nodemanager.scheduling;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.rpc.NodeInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a node knows of the other alive nodes of its cluster, for spillback: their addresses, total
 * resources, and their room: the free resources they last reported to the control service, less
 * what their own queues wait for, less the tasks this node has forwarded to them and that have not
 * ended yet. The last term counts twice once a peer's report includes those tasks; that errs on the
 * side of keeping tasks here, where they run as soon as this node frees up, and never sends a peer
 * more than it has room for on a report that predates the forwarding.
 *
 * <p>Pure state, owned by the node manager's loop: the control service's heartbeat replies feed
 * {@link #update}, the scheduler {@link #charge}s what it forwards, {@link #discharge}s what ended,
 * and {@link #backOff}s a peer that refused a task or could not be reached.
 */
public final class ClusterView {
  /** How long a peer that refused a task gets no more tasks. */
  public static final long BACK_OFF_MS = 500;

  /**
   * How long a peer that failed a call (unreachable, or died) gets no more tasks: as long as the
   * control service may take to declare it dead, so that tasks do not spend their retries on it.
   */
  public static final long FAILED_BACK_OFF_MS = 10_000;

  /** A peer node as the planner sees it ({@code available}: its room for more tasks). */
  public record Peer(ByteString nodeId, String address, ResourceSet total, ResourceSet available) {}

  private final ByteString self;
  private final Map<ByteString, Peer> peers = new LinkedHashMap<>();
  private final Map<ByteString, Long> backedOffUntil = new HashMap<>();
  private final Map<ByteString, Long> failedUntil = new HashMap<>();
  private final Map<ByteString, ResourceSet> forwarded = new HashMap<>();

  public ClusterView(ByteString self) {
    this.self = self;
  }

  /**
   * Replaces the view with the control service's list of alive nodes (this one is skipped); returns
   * the peers that were in the view and are not any more (dead or gone).
   */
  public List<ByteString> update(List<NodeInfo> nodes) {
    List<ByteString> before = new ArrayList<>(peers.keySet());
    peers.clear();
    for (NodeInfo n : nodes) {
      if (!n.getAlive() || n.getNodeId().equals(self)) {
        continue;
      }
      peers.put(
          n.getNodeId(),
          new Peer(
              n.getNodeId(),
              n.getNodeIp() + ":" + n.getNodeManagerPort(),
              ResourceSet.of(n.getTotalResourcesMap()),
              ResourceSet.of(n.getAvailableResourcesMap())
                  .minus(ResourceSet.of(n.getQueuedDemandMap()))));
    }
    before.removeIf(peers::containsKey);
    before.forEach(forwarded::remove);
    return before;
  }

  /** This node forwarded a task needing {@code demand} to the peer. */
  public void charge(ByteString nodeId, ResourceSet demand) {
    forwarded.merge(nodeId, demand, ResourceSet::plus);
  }

  /**
   * A task forwarded to the peer ended (or never ran there): it no longer counts against the peer's
   * room, and what it held there is free now, until the peer's next report says otherwise (so that
   * the next queued task can go at once, not a report later).
   */
  public void discharge(ByteString nodeId, ResourceSet demand) {
    ResourceSet left = forwarded.getOrDefault(nodeId, ResourceSet.EMPTY).minus(demand);
    if (left.isEmpty()) {
      forwarded.remove(nodeId);
    } else {
      forwarded.put(nodeId, left);
    }
    Peer p = peers.get(nodeId);
    if (p != null && !demand.isEmpty()) {
      peers.put(nodeId, new Peer(p.nodeId(), p.address(), p.total(), p.available().plus(demand)));
    }
  }

  /** The peer refused a task or failed: no more tasks for it for {@code forMs}. */
  public void backOff(ByteString nodeId, long nowMs, long forMs) {
    backedOffUntil.merge(nodeId, nowMs + forMs, Math::max);
  }

  /**
   * A call to the peer failed (unreachable, or died): it gets no tasks, nor counts as alive for
   * node affinity, until the control service could have declared it dead.
   */
  public void failed(ByteString nodeId, long nowMs) {
    backOff(nodeId, nowMs, FAILED_BACK_OFF_MS);
    failedUntil.merge(nodeId, nowMs + FAILED_BACK_OFF_MS, Math::max);
  }

  /** Whether a call to the peer failed lately (see {@link #failed}). */
  public boolean failedLately(ByteString nodeId, long nowMs) {
    Long until = failedUntil.get(nodeId);
    return until != null && until > nowMs;
  }

  /** Peers that may take tasks now, with their room, in the control service's order. */
  public List<Peer> candidates(long nowMs) {
    List<Peer> out = new ArrayList<>(peers.size());
    for (Peer p : peers.values()) {
      Long until = backedOffUntil.get(p.nodeId());
      if (until != null && until > nowMs) {
        continue;
      }
      ResourceSet ours = forwarded.get(p.nodeId());
      out.add(
          ours == null
              ? p
              : new Peer(p.nodeId(), p.address(), p.total(), p.available().minus(ours)));
    }
    return out;
  }

  public Peer peer(ByteString nodeId) {
    return peers.get(nodeId);
  }
}
