package io.ray.runtime;

import io.ray.api.Ray;
import io.ray.api.id.PlacementGroupId;
import io.ray.api.placementgroup.PlacementGroup;
import io.ray.api.placementgroup.PlacementGroupState;
import io.ray.api.placementgroup.PlacementStrategy;
import io.ray.engine.rpc.Bundle;
import io.ray.engine.rpc.PlacementGroupInfo;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A placement group as the control service described it when it was read. Immutable. */
final class PlacementGroupImpl implements PlacementGroup {
  private final PlacementGroupId id;
  private final String name;
  private final List<Map<String, Double>> bundles;
  private final PlacementStrategy strategy;
  private final PlacementGroupState state;

  PlacementGroupImpl(
      PlacementGroupId id,
      String name,
      List<Map<String, Double>> bundles,
      PlacementStrategy strategy,
      PlacementGroupState state) {
    this.id = id;
    this.name = name;
    this.bundles = bundles;
    this.strategy = strategy;
    this.state = state;
  }

  static PlacementGroupImpl of(PlacementGroupInfo info) {
    List<Map<String, Double>> bundles = new ArrayList<>();
    for (Bundle b : info.getBundlesList()) {
      bundles.add(Collections.unmodifiableMap(new LinkedHashMap<>(b.getResourcesMap())));
    }
    PlacementGroupState state =
        switch (info.getState()) {
          case PENDING -> PlacementGroupState.PENDING;
          case CREATED -> PlacementGroupState.CREATED;
          case REMOVED -> PlacementGroupState.REMOVED;
          case RESCHEDULING -> PlacementGroupState.RESCHEDULING;
          default -> PlacementGroupState.UNRECOGNIZED;
        };
    return new PlacementGroupImpl(
        PlacementGroupId.fromBytes(info.getPlacementGroupId().toByteArray()),
        info.getName(),
        Collections.unmodifiableList(bundles),
        PlacementStrategy.valueOf(info.getStrategy()),
        state);
  }

  @Override
  public PlacementGroupId getId() {
    return id;
  }

  @Override
  public String getName() {
    return name;
  }

  @Override
  public List<Map<String, Double>> getBundles() {
    return bundles;
  }

  @Override
  public PlacementStrategy getStrategy() {
    return strategy;
  }

  @Override
  public PlacementGroupState getState() {
    return state;
  }

  @Override
  public boolean wait(int timeoutSeconds) {
    return Ray.internal().waitPlacementGroupReady(id, timeoutSeconds);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PlacementGroupImpl other && other.id.equals(id);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "PlacementGroup(" + id + (name.isEmpty() ? "" : ", " + name) + ", " + state + ")";
  }
}
