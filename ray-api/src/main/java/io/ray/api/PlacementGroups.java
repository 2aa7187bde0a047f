package io.ray.api;

import io.ray.api.id.PlacementGroupId;
import io.ray.api.options.PlacementGroupCreationOptions;
import io.ray.api.placementgroup.PlacementGroup;
import java.util.List;

/**
 * Creates, finds and removes placement groups. Not supported by this runtime yet: every method
 * throws {@link UnsupportedOperationException}.
 */
public class PlacementGroups {

  /** Reserves a new placement group. */
  public static PlacementGroup createPlacementGroup(PlacementGroupCreationOptions options) {
    throw unsupported("createPlacementGroup");
  }

  /** The placement group {@code id}, or null. */
  public static PlacementGroup getPlacementGroup(PlacementGroupId id) {
    throw unsupported("getPlacementGroup");
  }

  /** The placement group named {@code name} in the current namespace, or null. */
  public static PlacementGroup getPlacementGroup(String name) {
    throw unsupported("getPlacementGroup");
  }

  /** The placement group named {@code name} in {@code namespace}, or null. */
  public static PlacementGroup getPlacementGroup(String name, String namespace) {
    throw unsupported("getPlacementGroup");
  }

  /** Every placement group of the cluster. */
  public static List<PlacementGroup> getAllPlacementGroups() {
    throw unsupported("getAllPlacementGroups");
  }

  /** Removes the placement group {@code id} and frees its resources. */
  public static void removePlacementGroup(PlacementGroupId id) {
    throw unsupported("removePlacementGroup");
  }

  private static UnsupportedOperationException unsupported(String method) {
    return new UnsupportedOperationException(
        "PlacementGroups." + method + " is not supported by this Ray (Ray on the JVM) yet");
  }
}
