package io.ray.api.placementgroup;

/** How a placement group's bundles are spread over nodes. */
public enum PlacementStrategy {
  /** As few nodes as possible, preferring one. */
  PACK(0),
  /** As many nodes as possible, preferring one node per bundle. */
  SPREAD(1),
  /** All bundles on one node, or fail. */
  STRICT_PACK(2),
  /** Every bundle on a different node, or fail. */
  STRICT_SPREAD(3),
  /** A strategy this version does not know. */
  UNRECOGNIZED(-1);

  private final int value;

  PlacementStrategy(int value) {
    this.value = value;
  }

  /** The strategy's number in Ray's protocol. */
  public int value() {
    return value;
  }
}
