package io.ray.api;

import io.ray.api.id.PlacementGroupId;
import io.ray.api.options.PlacementGroupCreationOptions;
import io.ray.api.placementgroup.PlacementGroup;
import java.util.List;

/** Creates, finds and removes placement groups, through the runtime ({@link Ray#internal()}). */
public class PlacementGroups {

  /** Reserves a new placement group (asynchronously: see {@link PlacementGroup#wait}). */
  public static PlacementGroup createPlacementGroup(PlacementGroupCreationOptions options) {
    return Ray.internal().createPlacementGroup(options);
  }

  /** The placement group {@code id}, or null. */
  public static PlacementGroup getPlacementGroup(PlacementGroupId id) {
    return Ray.internal().getPlacementGroup(id);
  }

  /** The placement group named {@code name} in the current namespace, or null. */
  public static PlacementGroup getPlacementGroup(String name) {
    return Ray.internal().getPlacementGroup(name, null);
  }

  /** The placement group named {@code name} in {@code namespace}, or null. */
  public static PlacementGroup getPlacementGroup(String name, String namespace) {
    return Ray.internal().getPlacementGroup(name, namespace);
  }

  /** Every placement group of the cluster. */
  public static List<PlacementGroup> getAllPlacementGroups() {
    return Ray.internal().getAllPlacementGroups();
  }

  /** Removes the placement group {@code id} and frees its resources. */
  public static void removePlacementGroup(PlacementGroupId id) {
    Ray.internal().removePlacementGroup(id);
  }
}
