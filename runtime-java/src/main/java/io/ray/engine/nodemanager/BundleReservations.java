package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.BundleResources;
import io.ray.engine.common.Ids;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.resources.ResourceLedger;
import io.ray.engine.rpc.Bundle;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The placement group bundles reserved on this node, in the control service's two phases. Prepare
 * leases a bundle's resources from the ledger under the bundle's own id (all of a request's bundles
 * or none); commit adds the group's resources ({@link BundleResources}) to the ledger's total,
 * where the scheduler finds them like any other resource; giving a bundle back removes them,
 * releases the lease, and kills whatever still runs on the group's resources here.
 *
 * <p>Owned by the node manager's loop.
 */
final class BundleReservations {
  private record Key(ByteString group, int index) {}

  private static final class Reserved {
    final Bundle bundle;
    boolean committed;

    Reserved(Bundle bundle) {
      this.bundle = bundle;
    }
  }

  private final Map<Key, Reserved> reserved = new LinkedHashMap<>();
  private final ResourceLedger ledger;

  /** Kills the workers running on a group's resources (its hex id). */
  private final Consumer<String> evict;

  BundleReservations(ResourceLedger ledger, Consumer<String> evict) {
    this.ledger = ledger;
    this.evict = evict;
  }

  /**
   * Takes the bundles' resources out of the free pool; false (and no change) if they do not fit.
   */
  boolean prepare(List<Bundle> bundles) {
    List<Key> granted = new ArrayList<>();
    for (Bundle b : bundles) {
      Key k = key(b);
      if (reserved.containsKey(k)) {
        continue; // prepared already (a repeated request)
      }
      if (ledger.grant(leaseId(k), ResourceSet.of(b.getResourcesMap())) == null) {
        for (Key g : granted) {
          reserved.remove(g);
          ledger.release(leaseId(g));
        }
        return false;
      }
      reserved.put(k, new Reserved(b));
      granted.add(k);
    }
    return true;
  }

  /** The prepared bundles become their group's resources; false if one was not prepared. */
  boolean commit(List<Bundle> bundles) {
    for (Bundle b : bundles) {
      if (!reserved.containsKey(key(b))) {
        return false;
      }
    }
    for (Bundle b : bundles) {
      Reserved r = reserved.get(key(b));
      if (!r.committed) {
        ledger.addTotal(groupResources(b));
        r.committed = true;
      }
    }
    return true;
  }

  /** Gives bundles back (unknown ones are skipped); returns the hex ids of their groups. */
  Set<String> giveBack(List<Bundle> bundles) {
    Set<String> groups = new LinkedHashSet<>();
    for (Bundle b : bundles) {
      Key k = key(b);
      Reserved r = reserved.remove(k);
      if (r == null) {
        continue;
      }
      if (r.committed) {
        ledger.removeTotal(groupResources(r.bundle));
        groups.add(Ids.hex(b.getPlacementGroupId()));
      }
      ledger.release(leaseId(k));
    }
    groups.forEach(evict);
    return groups;
  }

  /** Gives back every bundle of the groups (removed ones the control service tells of). */
  void giveBackGroups(Set<String> hexIds) {
    List<Bundle> of = new ArrayList<>();
    reserved.forEach(
        (k, r) -> {
          if (hexIds.contains(Ids.hex(k.group()))) {
            of.add(r.bundle);
          }
        });
    if (!of.isEmpty()) {
      giveBack(of);
    }
  }

  int size() {
    return reserved.size();
  }

  private static ResourceSet groupResources(Bundle b) {
    return BundleResources.of(
        b.getPlacementGroupId(), b.getIndex(), ResourceSet.of(b.getResourcesMap()));
  }

  private static Key key(Bundle b) {
    return new Key(b.getPlacementGroupId(), b.getIndex());
  }

  /** The ledger lease of a bundle: "bundle:", the group id, the index (no task or actor id). */
  private static ByteString leaseId(Key k) {
    return ByteString.copyFromUtf8("bundle:")
        .concat(k.group())
        .concat(ByteString.copyFrom(ByteBuffer.allocate(4).putInt(k.index()).array()));
  }
}
