package io.ray.engine.nodemanager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ray.engine.common.Ids;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.resources.ResourceLedger;
import io.ray.engine.rpc.Bundle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A node's bundles: two-phase reservation in the ledger, group resources, giving them back. */
class BundleReservationsTest {
  private static final ByteString GROUP = ByteString.copyFromUtf8("group-id-18-bytes!");
  private static final String HEX = Ids.hex(GROUP);

  private final ResourceLedger ledger = new ResourceLedger(ResourceSet.of(Map.of("CPU", 4.0)));
  private final List<String> evicted = new ArrayList<>();
  private final BundleReservations bundles = new BundleReservations(ledger, evicted::add);

  private static Bundle bundle(int index, double cpus) {
    return Bundle.newBuilder()
        .setPlacementGroupId(GROUP)
        .setIndex(index)
        .putResources("CPU", cpus)
        .build();
  }

  @AfterEach
  void invariantHolds() {
    ledger.checkInvariant();
  }

  @Test
  void prepareIsAllOrNothingAndCommitAddsTheGroupsResources() {
    assertFalse(bundles.prepare(List.of(bundle(0, 2), bundle(1, 3))), "5 CPUs do not fit in 4");
    assertEquals(4.0, ledger.available().get("CPU"), "a refused prepare leaves nothing taken");
    assertTrue(bundles.prepare(List.of(bundle(0, 2), bundle(1, 1))));
    assertEquals(1.0, ledger.available().get("CPU"));
    assertEquals(0.0, ledger.total().get("CPU_group_" + HEX), "not before the commit");
    assertTrue(bundles.commit(List.of(bundle(0, 2), bundle(1, 1))));
    assertEquals(3.0, ledger.total().get("CPU_group_" + HEX));
    assertEquals(2.0, ledger.available().get("CPU_group_0_" + HEX));
    assertEquals(1000.0, ledger.available().get("bundle_group_1_" + HEX));
    assertFalse(bundles.commit(List.of(bundle(2, 1))), "a bundle never prepared");
  }

  @Test
  void givingBackRemovesTheResourcesEvictsTheGroupAndFreesTheCpus() {
    bundles.prepare(List.of(bundle(0, 2)));
    bundles.commit(List.of(bundle(0, 2)));
    ResourceSet inBundle =
        ResourceSet.of(Map.of("CPU_group_0_" + HEX, 1.0, "CPU_group_" + HEX, 1.0));
    assertNotNull(ledger.grant(ByteString.copyFromUtf8("task"), inBundle));
    assertEquals(
        List.of(ByteString.copyFromUtf8("task")), ledger.leasesHolding(n -> n.endsWith(HEX)));

    assertEquals(Set.of(HEX), bundles.giveBack(List.of(bundle(0, 2))));
    assertEquals(List.of(HEX), evicted);
    assertEquals(4.0, ledger.available().get("CPU"));
    assertEquals(0.0, ledger.total().get("CPU_group_" + HEX));
    ledger.checkInvariant(); // the task still holds its share until it is gone
    ledger.release(ByteString.copyFromUtf8("task"));
    assertTrue(ledger.available().filter(n -> n.contains("_group_")).isEmpty());
    assertEquals(0, bundles.size());
  }

  @Test
  void aBlockedTaskInABundleLendsItsGroupCpus() {
    bundles.prepare(List.of(bundle(0, 1)));
    bundles.commit(List.of(bundle(0, 1)));
    ByteString parent = ByteString.copyFromUtf8("parent");
    ResourceSet one = ResourceSet.of(Map.of("CPU_group_" + HEX, 1.0));
    ledger.grant(parent, one);
    assertFalse(ledger.fits(one));
    ledger.lendCpu(parent);
    assertTrue(ledger.fits(one), "its child can run in the bundle meanwhile");
    ledger.reclaimCpu(parent);
    assertFalse(ledger.fits(one));
  }

  @Test
  void giveBackGroupsReturnsEveryBundleOfThoseGroups() {
    bundles.prepare(List.of(bundle(0, 1), bundle(1, 1)));
    bundles.commit(List.of(bundle(0, 1), bundle(1, 1)));
    bundles.giveBackGroups(Set.of(HEX));
    assertEquals(0, bundles.size());
    assertEquals(4.0, ledger.available().get("CPU"));
  }
}
