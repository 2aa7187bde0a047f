package io.ray.api.placementgroup;

/** Where a placement group is in its life. */
public enum PlacementGroupState {
  /** Waiting for resources. */
  PENDING(0),
  /** Every bundle is reserved. */
  CREATED(1),
  /** Removed; its resources are free again. */
  REMOVED(2),
  /** A node holding some of its bundles died and they are being reserved again. */
  RESCHEDULING(3),
  /** A state this version does not know. */
  UNRECOGNIZED(-1);

  private final int value;

  PlacementGroupState(int value) {
    this.value = value;
  }

  /** The state's number in Ray's protocol. */
  public int value() {
    return value;
  }
}
