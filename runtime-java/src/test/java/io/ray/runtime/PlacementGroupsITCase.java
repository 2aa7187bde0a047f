package io.ray.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.ActorHandle;
import io.ray.api.PlacementGroups;
import io.ray.api.Ray;
import io.ray.api.options.PlacementGroupCreationOptions;
import io.ray.api.placementgroup.PlacementGroup;
import io.ray.api.placementgroup.PlacementGroupState;
import io.ray.api.placementgroup.PlacementStrategy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Placement groups from Ray's Java API, against the real engine (one local node, 2 CPUs). */
class PlacementGroupsITCase {
  private static final long DEADLINE_MS = 30_000;

  static int square(int x) {
    return x * x;
  }

  public static class Counter {
    private int value;

    public int increment() {
      return ++value;
    }
  }

  @BeforeAll
  static void start() {
    Ray.init();
  }

  @AfterAll
  static void stop() {
    Ray.shutdown();
  }

  private static PlacementGroup create(String name, Map<String, Double> bundle) {
    return PlacementGroups.createPlacementGroup(
        new PlacementGroupCreationOptions.Builder()
            .setName(name)
            .setBundles(List.of(bundle))
            .setStrategy(PlacementStrategy.PACK)
            .build());
  }

  @Test
  void aGroupReservesItsBundleForTasksAndActorsUntilRemoved() {
    PlacementGroup pg = create("pg-a", Map.of("CPU", 1.0));
    assertTrue(pg.wait(30), "a one-CPU bundle on a two-CPU node is placed");
    assertEquals(
        PlacementGroupState.CREATED, PlacementGroups.getPlacementGroup(pg.getId()).getState());
    assertEquals(pg.getId(), PlacementGroups.getPlacementGroup("pg-a").getId());
    assertTrue(
        PlacementGroups.getAllPlacementGroups().stream()
            .anyMatch(g -> g.getId().equals(pg.getId())));
    assertEquals(List.of(Map.of("CPU", 1.0)), pg.getBundles());

    assertEquals(
        49,
        Ray.task(PlacementGroupsITCase::square, 7)
            .setPlacementGroup(pg, 0)
            .remote()
            .get(DEADLINE_MS));
    assertEquals(
        9,
        Ray.task(PlacementGroupsITCase::square, 3).setPlacementGroup(pg).remote().get(DEADLINE_MS));
    ActorHandle<Counter> counter = Ray.actor(Counter::new).setPlacementGroup(pg, 0).remote();
    assertEquals(1, counter.task(Counter::increment).remote().get(DEADLINE_MS));

    // As Ray: a bundle index the group does not have, or a demand no bundle can hold, is refused.
    IllegalArgumentException index =
        assertThrows(
            IllegalArgumentException.class,
            () -> Ray.task(PlacementGroupsITCase::square, 1).setPlacementGroup(pg, 3).remote());
    assertTrue(index.getMessage().contains("Bundle index 3"), index.getMessage());
    IllegalArgumentException big =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Ray.task(PlacementGroupsITCase::square, 1)
                    .setResource("CPU", 2.0)
                    .setPlacementGroup(pg, 0)
                    .remote());
    assertTrue(big.getMessage().contains("cannot fit"), big.getMessage());

    PlacementGroups.removePlacementGroup(pg.getId());
    PlacementGroup removed = PlacementGroups.getPlacementGroup(pg.getId());
    assertTrue(
        removed == null || removed.getState() == PlacementGroupState.REMOVED,
        "still there after removal: " + removed);
    assertFalse(pg.wait(1));
  }

  @Test
  void aGroupNoNodeCanHoldIsNotReadyAndANameIsFoundOnlyInItsNamespace() {
    PlacementGroup pg = create("pg-too-big", Map.of("CPU", 64.0));
    assertFalse(pg.wait(1));
    assertEquals(
        PlacementGroupState.PENDING, PlacementGroups.getPlacementGroup(pg.getId()).getState());
    assertNull(PlacementGroups.getPlacementGroup("pg-too-big", "another-namespace"));
    PlacementGroups.removePlacementGroup(pg.getId());
    assertThrows(
        IllegalArgumentException.class,
        () -> new PlacementGroupCreationOptions.Builder().setBundles(List.of()).build());
  }
}
