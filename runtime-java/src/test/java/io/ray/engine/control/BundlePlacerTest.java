package io.ray.engine.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where bundles go under each of Ray's four placement strategies. */
class BundlePlacerTest {
  private static final ByteString A = ByteString.copyFromUtf8("A");
  private static final ByteString B = ByteString.copyFromUtf8("B");
  private static final ByteString C = ByteString.copyFromUtf8("C");

  private static ResourceSet cpus(double n) {
    return ResourceSet.of("CPU", n);
  }

  private static List<BundlePlacer.Node> nodes(double a, double b, double c) {
    return List.of(
        new BundlePlacer.Node(A, cpus(a)),
        new BundlePlacer.Node(B, cpus(b)),
        new BundlePlacer.Node(C, cpus(c)));
  }

  private static List<ByteString> none(int n) {
    return new ArrayList<>(Arrays.asList(new ByteString[n]));
  }

  private static Map<Integer, ByteString> place(
      String strategy, int bundles, double each, List<BundlePlacer.Node> nodes) {
    List<ResourceSet> b = new ArrayList<>();
    for (int i = 0; i < bundles; i++) {
      b.add(cpus(each));
    }
    return BundlePlacer.place(strategy, b, none(bundles), nodes);
  }

  @Test
  void strictPackPutsEveryBundleOnOneNodeOrWaits() {
    Map<Integer, ByteString> out = place("STRICT_PACK", 3, 1, nodes(2, 4, 1));
    assertEquals(Map.of(0, B, 1, B, 2, B), out);
    assertNull(place("STRICT_PACK", 3, 1, nodes(2, 2, 2)));
  }

  @Test
  void packPrefersOneNodeThenFillsAsFewAsItCan() {
    assertEquals(Map.of(0, C, 1, C), place("PACK", 2, 1, nodes(1, 1, 3)));
    Map<Integer, ByteString> spanning = place("PACK", 4, 1, nodes(1, 3, 1));
    assertEquals(2, new HashSet<>(spanning.values()).size(), spanning.toString());
    assertEquals(3, spanning.values().stream().filter(B::equals).count());
    assertNull(place("PACK", 4, 1, nodes(1, 1, 1)));
  }

  @Test
  void strictSpreadUsesDistinctNodesOrWaits() {
    Map<Integer, ByteString> out = place("STRICT_SPREAD", 3, 1, nodes(1, 1, 1));
    assertEquals(3, new HashSet<>(out.values()).size());
    assertNull(place("STRICT_SPREAD", 4, 1, nodes(4, 4, 4)));
    assertNull(place("STRICT_SPREAD", 3, 1, nodes(4, 4, 0)));
  }

  @Test
  void spreadUsesDistinctNodesWhileItCanThenReuses() {
    assertEquals(3, new HashSet<>(place("SPREAD", 3, 1, nodes(2, 2, 2)).values()).size());
    Map<Integer, ByteString> four = place("SPREAD", 4, 1, nodes(2, 2, 2));
    assertEquals(3, new HashSet<>(four.values()).size());
    Map<Integer, ByteString> squeezed = place("SPREAD", 3, 1, nodes(3, 0, 0));
    assertEquals(Map.of(0, A, 1, A, 2, A), squeezed);
  }

  @Test
  void onlyUnplacedBundlesMoveAndStrictSpreadAvoidsTheNodesInUse() {
    List<ResourceSet> bundles = List.of(cpus(1), cpus(1), cpus(1));
    List<ByteString> placed = new ArrayList<>(Arrays.asList(A, null, B));
    Map<Integer, ByteString> out =
        BundlePlacer.place("STRICT_SPREAD", bundles, placed, nodes(5, 5, 1));
    assertEquals(Map.of(1, C), out);
    List<ByteString> packed = new ArrayList<>(Arrays.asList(B, null));
    assertEquals(
        Map.of(1, B),
        BundlePlacer.place("STRICT_PACK", bundles.subList(0, 2), packed, nodes(5, 1, 5)));
    assertNull(BundlePlacer.place("STRICT_PACK", bundles.subList(0, 2), packed, nodes(5, 0, 5)));
  }

  @Test
  void customResourcesDecide() {
    List<BundlePlacer.Node> n =
        List.of(
            new BundlePlacer.Node(A, cpus(4)),
            new BundlePlacer.Node(B, cpus(1).plus(ResourceSet.of("special", 1))));
    List<ResourceSet> b = List.of(cpus(1).plus(ResourceSet.of("special", 1)));
    assertEquals(Map.of(0, B), BundlePlacer.place("PACK", b, none(1), n));
  }
}
