package io.ray.engine.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Fixed-point resource arithmetic: exact for multiples of 1/10000, never drifting. */
class ResourceSetTest {

  private static ResourceSet cpu(double n) {
    return ResourceSet.of("CPU", n);
  }

  @Test
  void addingATenthTenTimesIsExactlyOne() {
    ResourceSet sum = ResourceSet.EMPTY;
    for (int i = 0; i < 10; i++) {
      sum = sum.plus(cpu(0.1));
    }
    assertEquals(cpu(1.0), sum);
    assertEquals(1.0, sum.get("CPU"), "summing 0.1 as doubles would give 0.9999999999999999");
    assertTrue(sum.contains(cpu(1)) && cpu(1).contains(sum));
  }

  @Test
  void oneTenThousandthIsTheResolution() {
    assertEquals(0.0001, ResourceSet.of("GPU", 0.0001).get("GPU"));
    assertEquals(
        ResourceSet.of("GPU", 0.0003),
        ResourceSet.of("GPU", 0.0001).plus(ResourceSet.of("GPU", 0.0002)));
    assertTrue(cpu(1).contains(cpu(0.9999)));
    assertFalse(cpu(1).contains(cpu(1.0001)), "one unit of resolution more does not fit");
  }

  @Test
  void subtractingBackToZeroLeavesNoEntry() {
    ResourceSet r = cpu(1).minus(cpu(0.9)).minus(cpu(0.1));
    assertTrue(r.isEmpty());
    assertEquals(ResourceSet.EMPTY, r);
    assertEquals(Map.of(), r.toMap());
    ResourceSet mixed =
        ResourceSet.of(Map.of("CPU", 2.0, "GPU", 1.0)).minus(ResourceSet.of("GPU", 1));
    assertEquals(Map.of("CPU", 2.0), mixed.toMap());
    assertEquals(
        mixed.toMap(),
        cpu(0.5)
            .plus(cpu(1.5))
            .plus(ResourceSet.of("GPU", 0.3))
            .minus(ResourceSet.of("GPU", 0.3))
            .toMap(),
        "plus also drops zero entries");
  }

  @Test
  void zeroAmountsAreNotStored() {
    ResourceSet r = ResourceSet.of(Map.of("CPU", 0.0, "GPU", 1.0));
    assertEquals(Map.of("GPU", 1.0), r.toMap());
    assertEquals(ResourceSet.of("GPU", 1), r);
    assertTrue(ResourceSet.of("CPU", 0).isEmpty());
    assertEquals(0.0, r.get("CPU"), "absent means zero");
  }

  @Test
  void containsComparesEveryRequestedResource() {
    ResourceSet node = ResourceSet.of(Map.of("CPU", 4.0, "GPU", 1.0));
    assertTrue(node.contains(ResourceSet.EMPTY));
    assertTrue(node.contains(cpu(4)), "equal amounts fit");
    assertTrue(node.contains(ResourceSet.of(Map.of("CPU", 2.0, "GPU", 1.0))));
    assertFalse(node.contains(cpu(4.5)));
    assertFalse(node.contains(ResourceSet.of(Map.of("CPU", 1.0, "GPU", 2.0))), "GPU short");
    assertFalse(node.contains(ResourceSet.of("TPU", 1)), "absent resource is zero");
    assertTrue(ResourceSet.EMPTY.contains(ResourceSet.EMPTY));
    assertFalse(ResourceSet.EMPTY.contains(cpu(0.0001)));
  }

  @Test
  void plusAndMinusCombineByName() {
    ResourceSet a = ResourceSet.of(Map.of("CPU", 1.5, "GPU", 1.0));
    ResourceSet b = ResourceSet.of(Map.of("CPU", 0.5, "memory", 100.0));
    assertEquals(Map.of("CPU", 2.0, "GPU", 1.0, "memory", 100.0), a.plus(b).toMap());
    assertEquals(Map.of("CPU", 1.0, "GPU", 1.0, "memory", -100.0), a.minus(b).toMap());
    assertEquals(a, a.plus(b).minus(b));
    // Operands are immutable.
    assertEquals(Map.of("CPU", 1.5, "GPU", 1.0), a.toMap());
    assertEquals(Map.of("CPU", 0.5, "memory", 100.0), b.toMap());
  }

  @Test
  void minusMayGoNegative() {
    ResourceSet r = cpu(1).minus(cpu(2.5));
    assertEquals(-1.5, r.get("CPU"));
    assertFalse(r.isEmpty());
    assertFalse(r.contains(cpu(0.0001)));
    assertTrue(r.contains(ResourceSet.EMPTY));
    assertEquals(cpu(1), r.plus(cpu(2.5)), "and comes back exactly");
  }

  @Test
  void only() {
    ResourceSet r = ResourceSet.of(Map.of("CPU", 2.0, "GPU", 1.0, "memory", 10.0));
    assertEquals(cpu(2), r.only("CPU"));
    assertEquals(ResourceSet.EMPTY, r.only("TPU"));
    assertEquals(ResourceSet.of(Map.of("GPU", 1.0, "memory", 10.0)), r.minus(r.only("CPU")));
    assertEquals(Map.of("CPU", 2.0, "GPU", 1.0, "memory", 10.0), r.toMap(), "r is unchanged");
  }

  @Test
  void equalsAndHashCodeDependOnAmountsOnly() {
    Map<String, Double> ordered = new LinkedHashMap<>();
    ordered.put("GPU", 1.0);
    ordered.put("CPU", 0.3);
    ResourceSet x = ResourceSet.of(ordered);
    ResourceSet y = cpu(0.1).plus(cpu(0.2)).plus(ResourceSet.of("GPU", 1));
    assertEquals(x, y);
    assertEquals(x.hashCode(), y.hashCode());
    assertEquals(x, x);
    assertNotEquals(x, cpu(0.3));
    assertNotEquals(x, ResourceSet.of(Map.of("CPU", 0.3, "GPU", 2.0)));
    assertNotEquals(x, null);
    assertNotEquals(x, Map.of("CPU", 0.3, "GPU", 1.0));
    assertEquals(ResourceSet.EMPTY, ResourceSet.of(Map.of()));
  }

  @Test
  void toMapIsReadOnly() {
    Map<String, Double> m = cpu(1).toMap();
    assertThrows(UnsupportedOperationException.class, () -> m.put("GPU", 1.0));
  }
}
