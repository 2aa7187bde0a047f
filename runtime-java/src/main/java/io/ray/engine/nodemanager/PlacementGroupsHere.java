package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.BundleResources;
import io.ray.engine.common.Ids;
import io.ray.engine.nodemanager.resources.ResourceLedger;
import io.ray.engine.nodemanager.workers.WorkerHandle;
import io.ray.engine.rpc.Bundle;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * This node's part in the cluster's placement groups: the bundles the control service reserves here
 * ({@link BundleReservations}), and the groups it removed, whose tasks fail instead of waiting for
 * resources that will not come back ({@code TaskPlacementGroupRemoved}, and {@code
 * ActorPlacementGroupRemoved} for an actor's creation). Giving a bundle back kills the workers
 * still running on its group's resources.
 *
 * <p>Owned by the node manager's loop.
 */
final class PlacementGroupsHere {
  /** What this needs of the node's scheduler. */
  interface Host {
    void dispatch();

    void reportSoon();

    /** The tasks waiting in the dispatch queue, in a list of their own. */
    List<TaskRecord> queued();

    void unqueue(TaskRecord r);

    /** Fails a task, or the actor whose creation it is, with that error. */
    void failUnplaceable(TaskRecord r, String errorType, String why);

    /** The worker running under a ledger lease (a task's or an actor's), or null. */
    WorkerHandle workerOfLease(ByteString leaseId);

    void kill(WorkerHandle w);
  }

  private final Host host;
  private final ResourceLedger ledger;
  private final BundleReservations bundles;

  /** Hex ids of the placement groups removed. */
  private final Set<String> removed = new HashSet<>();

  PlacementGroupsHere(ResourceLedger ledger, Host host) {
    this.host = host;
    this.ledger = ledger;
    this.bundles = new BundleReservations(ledger, this::evict);
  }

  boolean prepare(List<Bundle> list) {
    boolean ok = bundles.prepare(list);
    host.reportSoon();
    return ok;
  }

  boolean commit(List<Bundle> list) {
    boolean ok = bundles.commit(list);
    host.dispatch();
    return ok;
  }

  /** Bundles given back: {@code groupRemoved} when their group is gone for good. */
  void giveBack(List<Bundle> list, boolean groupRemoved) {
    if (groupRemoved) {
      List<ByteString> ids = new ArrayList<>();
      list.forEach(b -> ids.add(b.getPlacementGroupId()));
      removed(ids);
    }
    bundles.giveBack(list);
    host.reportSoon();
  }

  /**
   * Groups removed (the control service's word): their bundles here are given back, and the tasks
   * queued for them fail.
   */
  void removed(List<ByteString> groupIds) {
    Set<String> fresh = new HashSet<>();
    for (ByteString id : groupIds) {
      if (removed.add(Ids.hex(id))) {
        fresh.add(Ids.hex(id));
      }
    }
    if (fresh.isEmpty()) {
      return;
    }
    bundles.giveBackGroups(fresh);
    for (TaskRecord r : host.queued()) {
      if (r.demand.anyName(n -> fresh.contains(BundleResources.groupOf(n)))) {
        host.unqueue(r);
        failIfRemoved(r);
      }
    }
  }

  /** Fails a task that needs resources of a removed group; returns whether it did. */
  boolean failIfRemoved(TaskRecord r) {
    if (removed.isEmpty() || !r.demand.anyName(n -> removed.contains(BundleResources.groupOf(n)))) {
      return false;
    }
    String why =
        "The placement group of "
            + r.spec.getName()
            + " was removed (ray.util.remove_placement_group), so it cannot run.";
    host.failUnplaceable(
        r,
        r.spec.hasActorCreation() ? "ActorPlacementGroupRemoved" : "TaskPlacementGroupRemoved",
        why);
    return true;
  }

  /** Kills the workers of tasks and actors running on a group's resources (given back). */
  private void evict(String hex) {
    for (ByteString id : ledger.leasesHolding(n -> hex.equals(BundleResources.groupOf(n)))) {
      WorkerHandle w = host.workerOfLease(id);
      if (w != null) {
        host.kill(w);
      }
    }
  }
}
