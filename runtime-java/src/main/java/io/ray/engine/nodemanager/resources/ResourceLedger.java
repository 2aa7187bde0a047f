package io.ray.engine.nodemanager.resources;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Who holds which of the node's resources. Every grant is a lease under an id (a task's id, an
 * actor's id); releasing the id gives back exactly what it holds, so no path can release twice or
 * forget to release. GPUs are also tracked per device, so a lease knows its GPU indices.
 *
 * <p>Invariant, per resource: {@code available + sum(held of every lease) == total}. A blocked
 * holder lends its CPUs back ({@link #lendCpu}) and takes them back when it resumes, even if that
 * makes {@code available} negative for a while (Ray does the same); the invariant still holds.
 *
 * <p>Placement group bundles change the total: a bundle is a lease of the node's own resources
 * (under the bundle's id), and while it is committed its group resources ({@code CPU_group_<pg>},
 * ...) are added to the total ({@link #addTotal}); giving the bundle back removes them ({@link
 * #removeTotal}) even while tasks still hold some (they are being killed; their release brings the
 * name back to zero).
 *
 * <p>Pure state, no I/O. Owned by the node manager's loop.
 */
public final class ResourceLedger {
  private static final String CPU = "CPU";
  private static final String GPU = "GPU";

  /** What one lease holds. */
  private static final class Lease {
    final ResourceSet demand;
    ResourceSet held;
    final List<Integer> gpuIds;

    /** Fixed-point share of each device in gpuIds (whole devices: SCALE). */
    final long[] gpuShares;

    boolean lent;

    Lease(ResourceSet demand, List<Integer> gpuIds, long[] gpuShares) {
      this.demand = demand;
      this.held = demand;
      this.gpuIds = gpuIds;
      this.gpuShares = gpuShares;
    }
  }

  private ResourceSet total;
  private ResourceSet available;
  private final Map<ByteString, Lease> leases = new HashMap<>();

  /** Fixed-point free share of each GPU device. */
  private final long[] gpuFree;

  public ResourceLedger(ResourceSet total) {
    this.total = total;
    this.available = total;
    int devices = (int) Math.floor(total.get(GPU));
    this.gpuFree = new long[devices];
    java.util.Arrays.fill(gpuFree, ResourceSet.SCALE);
  }

  public ResourceSet total() {
    return total;
  }

  public ResourceSet available() {
    return available;
  }

  /** Whether a lease of {@code demand} could be granted now. */
  public boolean fits(ResourceSet demand) {
    return available.contains(demand) && pickGpus(demand) != null;
  }

  /**
   * Grants {@code demand} under {@code leaseId}; returns the GPU indices it got (empty without
   * GPUs), or null when it does not fit now (nothing changes then).
   *
   * @throws IllegalStateException if the id already holds a lease
   */
  public List<Integer> grant(ByteString leaseId, ResourceSet demand) {
    if (leases.containsKey(leaseId)) {
      throw new IllegalStateException("lease " + leaseId + " is granted already");
    }
    if (!available.contains(demand)) {
      return null;
    }
    long[] shares = pickGpus(demand);
    if (shares == null) {
      return null;
    }
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < shares.length; i++) {
      if (shares[i] > 0) {
        ids.add(i);
        gpuFree[i] -= shares[i];
      }
    }
    long[] taken = ids.stream().mapToLong(i -> shares[i]).toArray();
    available = available.minus(demand);
    leases.put(leaseId, new Lease(demand, List.copyOf(ids), taken));
    return ids;
  }

  /** Gives back everything {@code leaseId} holds; returns it (EMPTY if it held nothing). */
  public ResourceSet release(ByteString leaseId) {
    Lease l = leases.remove(leaseId);
    if (l == null) {
      return ResourceSet.EMPTY;
    }
    available = available.plus(l.held);
    for (int i = 0; i < l.gpuIds.size(); i++) {
      gpuFree[l.gpuIds.get(i)] += l.gpuShares[i];
    }
    return l.held;
  }

  /** New resources join the node (a committed placement group bundle): total and free. */
  public void addTotal(ResourceSet extra) {
    total = total.plus(extra);
    available = available.plus(extra);
  }

  /** Resources leave the node (a bundle given back); leases still holding some keep them. */
  public void removeTotal(ResourceSet gone) {
    total = total.minus(gone);
    available = available.minus(gone);
  }

  /** Ids of the leases holding any resource whose name passes {@code test}. */
  public List<ByteString> leasesHolding(java.util.function.Predicate<String> test) {
    List<ByteString> out = new ArrayList<>();
    leases.forEach(
        (id, l) -> {
          if (l.demand.anyName(test)) {
            out.add(id);
          }
        });
    return out;
  }

  /** CPUs a blocked holder lends: the node's, and a placement group's (CPU_group_...). */
  private static boolean isCpu(String name) {
    return name.equals(CPU) || name.startsWith("CPU_group_");
  }

  /** The holder blocks (ray.get in a task): its CPUs go back to the pool until it resumes. */
  public void lendCpu(ByteString leaseId) {
    Lease l = leases.get(leaseId);
    if (l == null || l.lent) {
      return;
    }
    ResourceSet cpu = l.held.filter(ResourceLedger::isCpu);
    l.held = l.held.minus(cpu);
    available = available.plus(cpu);
    l.lent = true;
  }

  /** The holder resumes: it takes its CPUs back, even if the node is oversubscribed meanwhile. */
  public void reclaimCpu(ByteString leaseId) {
    Lease l = leases.get(leaseId);
    if (l == null || !l.lent) {
      return;
    }
    ResourceSet cpu = l.demand.filter(ResourceLedger::isCpu);
    l.held = l.held.plus(cpu);
    available = available.minus(cpu);
    l.lent = false;
  }

  public boolean holds(ByteString leaseId) {
    return leases.containsKey(leaseId);
  }

  /** What the lease holds now (EMPTY if none). */
  public ResourceSet held(ByteString leaseId) {
    Lease l = leases.get(leaseId);
    return l == null ? ResourceSet.EMPTY : l.held;
  }

  public List<Integer> gpuIds(ByteString leaseId) {
    Lease l = leases.get(leaseId);
    return l == null ? List.of() : l.gpuIds;
  }

  public int leaseCount() {
    return leases.size();
  }

  /**
   * Checks the ledger's invariants; tests call it after every scenario.
   *
   * @throws IllegalStateException naming the first broken one
   */
  public void checkInvariant() {
    ResourceSet sum = available;
    for (Lease l : leases.values()) {
      sum = sum.plus(l.held);
    }
    if (!sum.equals(total)) {
      throw new IllegalStateException(
          "available " + available + " + held " + sum.minus(available) + " != total " + total);
    }
    long[] used = new long[gpuFree.length];
    for (Lease l : leases.values()) {
      for (int i = 0; i < l.gpuIds.size(); i++) {
        used[l.gpuIds.get(i)] += l.gpuShares[i];
      }
    }
    for (int i = 0; i < gpuFree.length; i++) {
      if (gpuFree[i] < 0 || gpuFree[i] + used[i] != ResourceSet.SCALE) {
        throw new IllegalStateException("GPU " + i + " share is inconsistent");
      }
    }
  }

  /**
   * Device shares for a GPU demand: whole GPUs take that many free devices; a fraction takes one
   * device with that much left (the fullest that fits, to keep whole devices free). Null: no fit.
   */
  private long[] pickGpus(ResourceSet demand) {
    long[] shares = new long[gpuFree.length];
    long want = Math.round(demand.get(GPU) * ResourceSet.SCALE);
    if (want == 0) {
      return shares;
    }
    if (want >= ResourceSet.SCALE) {
      long whole = want / ResourceSet.SCALE;
      for (int i = 0; i < gpuFree.length && whole > 0; i++) {
        if (gpuFree[i] == ResourceSet.SCALE) {
          shares[i] = ResourceSet.SCALE;
          whole--;
        }
      }
      return whole == 0 && want % ResourceSet.SCALE == 0 ? shares : null;
    }
    int best = -1;
    for (int i = 0; i < gpuFree.length; i++) {
      if (gpuFree[i] >= want && (best < 0 || gpuFree[i] < gpuFree[best])) {
        best = i;
      }
    }
    if (best < 0) {
      return null;
    }
    shares[best] = want;
    return shares;
  }
}
