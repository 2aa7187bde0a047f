package io.ray.engine.nodemanager.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ResourceLedgerTest {
  private final ResourceLedger ledger =
      new ResourceLedger(ResourceSet.of(Map.of("CPU", 2.0, "GPU", 2.0, "slot", 1.0)));

  private static ByteString id(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static ResourceSet cpu(double n) {
    return ResourceSet.of("CPU", n);
  }

  @AfterEach
  void invariantHolds() {
    ledger.checkInvariant();
  }

  @Test
  void grantAndReleaseByLeaseId() {
    assertEquals(List.of(), ledger.grant(id("a"), cpu(1)));
    assertEquals(1.0, ledger.available().get("CPU"));
    assertEquals(cpu(1), ledger.release(id("a")));
    assertEquals(ResourceSet.EMPTY, ledger.release(id("a")), "a second release gives nothing");
    assertEquals(2.0, ledger.available().get("CPU"));
  }

  @Test
  void aGrantThatDoesNotFitChangesNothing() {
    ledger.grant(id("a"), cpu(2));
    assertNull(ledger.grant(id("b"), cpu(1)));
    assertFalse(ledger.holds(id("b")));
    assertEquals(0.0, ledger.available().get("CPU"));
  }

  @Test
  void oneLeasePerId() {
    ledger.grant(id("a"), cpu(1));
    assertThrows(IllegalStateException.class, () -> ledger.grant(id("a"), cpu(1)));
  }

  @Test
  void aBlockedHolderLendsItsCpuAndTakesItBackEvenIfOversubscribed() {
    ledger.grant(id("parent"), ResourceSet.of(Map.of("CPU", 1.0, "slot", 1.0)));
    ledger.grant(id("other"), cpu(1));
    ledger.lendCpu(id("parent"));
    ledger.lendCpu(id("parent")); // idempotent
    assertEquals(1.0, ledger.available().get("CPU"));
    assertEquals(0.0, ledger.available().get("slot"), "only CPUs are lent");
    ledger.grant(id("child"), cpu(1));
    ledger.reclaimCpu(id("parent"));
    assertEquals(-1.0, ledger.available().get("CPU"));
    ledger.checkInvariant();
    ledger.release(id("child"));
    ledger.release(id("parent"));
    ledger.release(id("other"));
    assertEquals(ledger.total(), ledger.available());
  }

  @Test
  void releasingALentLeaseReturnsOnlyWhatItStillHolds() {
    ledger.grant(id("a"), cpu(1));
    ledger.lendCpu(id("a"));
    assertEquals(ResourceSet.EMPTY, ledger.release(id("a")));
    assertEquals(2.0, ledger.available().get("CPU"));
  }

  @Test
  void wholeGpusGetDistinctDevices() {
    List<Integer> a = ledger.grant(id("a"), ResourceSet.of("GPU", 1));
    List<Integer> b = ledger.grant(id("b"), ResourceSet.of("GPU", 1));
    assertEquals(1, a.size());
    assertEquals(1, b.size());
    assertNotEquals(a, b);
    assertNull(ledger.grant(id("c"), ResourceSet.of("GPU", 1)));
    ledger.release(id("a"));
    assertEquals(a, ledger.grant(id("c"), ResourceSet.of("GPU", 1)), "the freed device is reused");
  }

  @Test
  void fractionsShareADeviceAndKeepWholeOnesFree() {
    List<Integer> a = ledger.grant(id("a"), ResourceSet.of("GPU", 0.5));
    List<Integer> b = ledger.grant(id("b"), ResourceSet.of("GPU", 0.5));
    assertEquals(a, b, "two halves pack onto one device");
    assertEquals(1, ledger.grant(id("c"), ResourceSet.of("GPU", 1)).size());
    assertTrue(ledger.fits(ResourceSet.EMPTY));
    assertFalse(ledger.fits(ResourceSet.of("GPU", 0.5)));
  }

  @Test
  void twoGpusTakeTwoWholeDevices() {
    ledger.grant(id("half"), ResourceSet.of("GPU", 0.5));
    assertNull(ledger.grant(id("two"), ResourceSet.of("GPU", 2)), "one device is partly used");
    ledger.release(id("half"));
    assertEquals(List.of(0, 1), ledger.grant(id("two"), ResourceSet.of("GPU", 2)));
  }
}
