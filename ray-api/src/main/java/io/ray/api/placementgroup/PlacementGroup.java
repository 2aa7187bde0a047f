package io.ray.api.placementgroup;

import io.ray.api.id.PlacementGroupId;
import java.util.List;
import java.util.Map;

/** A set of resource bundles reserved together, which tasks and actors can be placed into. */
public interface PlacementGroup {

  /** The group's identifier. */
  PlacementGroupId getId();

  /** The group's name, or an empty string if it has none. */
  String getName();

  /** The reserved bundles, each a map from resource name to amount. */
  List<Map<String, Double>> getBundles();

  /** How the bundles are spread over nodes. */
  PlacementStrategy getStrategy();

  /** The group's state when it was last read. */
  PlacementGroupState getState();

  /**
   * Waits until every bundle is reserved.
   *
   * @param timeoutSeconds how long to wait at most
   * @return whether the group became ready in time
   */
  boolean wait(int timeoutSeconds);
}
