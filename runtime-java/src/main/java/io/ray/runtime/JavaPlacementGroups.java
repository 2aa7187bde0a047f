package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.id.PlacementGroupId;
import io.ray.api.options.PlacementGroupCreationOptions;
import io.ray.api.placementgroup.PlacementGroup;
import io.ray.engine.common.Ids;
import io.ray.engine.rpc.Bundle;
import io.ray.engine.rpc.ControlServiceGrpc.ControlServiceBlockingStub;
import io.ray.engine.rpc.CreatePlacementGroupReply;
import io.ray.engine.rpc.CreatePlacementGroupRequest;
import io.ray.engine.rpc.GetPlacementGroupsReply;
import io.ray.engine.rpc.GetPlacementGroupsRequest;
import io.ray.engine.rpc.PlacementGroupInfo;
import io.ray.engine.rpc.PlacementGroupPlacement;
import io.ray.engine.rpc.RemovePlacementGroupRequest;
import io.ray.engine.rpc.SchedulingStrategy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Placement groups from a Java process, as Python's {@code ray.util.placement_group}: the control
 * service records a group and places its bundles when the nodes have room; a placed bundle {@code
 * i} of group {@code H} holding {@code {"CPU": 2}} shows up on its node as the resources {@code
 * CPU_group_i_H} and {@code CPU_group_H}, and a task or actor placed in the group asks for those
 * instead of {@code CPU} ({@link #demand}), so nodes schedule it like any other. Thread-safe
 * (stateless over the control service).
 */
final class JavaPlacementGroups {
  /** Of a bundle's marker resource, what a task that needs nothing else asks for. */
  private static final double BUNDLE_SHARE = 0.001;

  private static final int ID_RANDOM_BYTES = 14;

  private final ControlServiceBlockingStub control;
  private final ByteString jobId;
  private final String namespace;

  JavaPlacementGroups(ControlServiceBlockingStub control, ByteString jobId, String namespace) {
    this.control = control;
    this.jobId = jobId;
    this.namespace = namespace;
  }

  PlacementGroup create(PlacementGroupCreationOptions options) {
    ByteString id = Ids.random(ID_RANDOM_BYTES).concat(jobId);
    PlacementGroupInfo.Builder info =
        PlacementGroupInfo.newBuilder()
            .setPlacementGroupId(id)
            .setName(options.getName())
            .setRayNamespace(namespace)
            .setStrategy(options.getStrategy().name())
            .setCreatorJobId(jobId);
    List<Map<String, Double>> bundles = options.getBundles();
    for (int i = 0; i < bundles.size(); i++) {
      info.addBundles(
          Bundle.newBuilder().setPlacementGroupId(id).setIndex(i).putAllResources(bundles.get(i)));
    }
    CreatePlacementGroupReply reply =
        control.createPlacementGroup(
            CreatePlacementGroupRequest.newBuilder().setPlacementGroup(info).build());
    if (!reply.getError().isEmpty()) {
      throw new IllegalArgumentException(reply.getError());
    }
    return PlacementGroupImpl.of(info.build());
  }

  PlacementGroup get(PlacementGroupId id) {
    return first(
        GetPlacementGroupsRequest.newBuilder()
            .setPlacementGroupId(ByteString.copyFrom(id.getBytes())));
  }

  PlacementGroup get(String name, String inNamespace) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("A placement group's name must not be empty");
    }
    return first(
        GetPlacementGroupsRequest.newBuilder()
            .setName(name)
            .setRayNamespace(inNamespace == null ? namespace : inNamespace));
  }

  List<PlacementGroup> all() {
    List<PlacementGroup> out = new ArrayList<>();
    GetPlacementGroupsReply reply =
        control.getPlacementGroups(GetPlacementGroupsRequest.getDefaultInstance());
    reply.getPlacementGroupsList().forEach(info -> out.add(PlacementGroupImpl.of(info)));
    return out;
  }

  private PlacementGroup first(GetPlacementGroupsRequest.Builder request) {
    GetPlacementGroupsReply reply = control.getPlacementGroups(request.build());
    return reply.getPlacementGroupsCount() == 0
        ? null
        : PlacementGroupImpl.of(reply.getPlacementGroups(0));
  }

  void remove(PlacementGroupId id) {
    control.removePlacementGroup(
        RemovePlacementGroupRequest.newBuilder()
            .setPlacementGroupId(ByteString.copyFrom(id.getBytes()))
            .build());
  }

  /**
   * Whether the group is placed within {@code timeoutSeconds}: its state, read from the control
   * service until then (every 10 ms at first, then every 100 ms). False for a group that is gone.
   */
  boolean waitReady(PlacementGroupId id, int timeoutSeconds) {
    long deadline = System.nanoTime() + Math.max(0, timeoutSeconds) * 1_000_000_000L;
    long pause = 10;
    while (true) {
      PlacementGroup group = get(id);
      if (group == null) {
        return false;
      }
      switch (group.getState()) {
        case CREATED:
          return true;
        case REMOVED:
          return false;
        default:
          break;
      }
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        return false;
      }
      try {
        Thread.sleep(Math.min(pause, left));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      pause = Math.min(100, pause * 2);
    }
  }

  /** The scheduling strategy of a task or actor placed in bundle {@code index} of the group. */
  static SchedulingStrategy strategy(PlacementGroup group, int index) {
    return SchedulingStrategy.newBuilder()
        .setPlacementGroup(
            PlacementGroupPlacement.newBuilder()
                .setPlacementGroupId(ByteString.copyFrom(group.getId().getBytes()))
                .setBundleIndex(index))
        .build();
  }

  /**
   * What a task or actor needing {@code demand} asks for in bundle {@code index} of the group (-1:
   * any bundle); with {@code marker}, a demand of nothing asks for a sliver of the bundle's marker
   * resource, so it still runs on the group's nodes. Raises IllegalArgumentException, as Ray does,
   * for a bad index or when no bundle it may use can hold it.
   */
  static Map<String, Double> demand(
      Map<String, Double> demand, PlacementGroup group, int index, String what, boolean marker) {
    List<Map<String, Double>> bundles = group.getBundles();
    if (index < -1 || index >= bundles.size()) {
      throw new IllegalArgumentException(
          "Bundle index "
              + index
              + " is invalid for a placement group of "
              + bundles.size()
              + " bundles (valid: -1 for any, 0-"
              + (bundles.size() - 1)
              + ")");
    }
    List<Map<String, Double>> candidates = index == -1 ? bundles : List.of(bundles.get(index));
    if (candidates.stream().noneMatch(b -> fits(demand, b))) {
      throw new IllegalArgumentException(
          "Cannot schedule "
              + what
              + " with the placement group because the resource request "
              + demand
              + " cannot fit into "
              + (index == -1 ? "any bundle" : "the bundle index " + index)
              + " of the placement group, "
              + bundles
              + ".");
    }
    String hex = Ids.hex(ByteString.copyFrom(group.getId().getBytes()));
    Map<String, Double> out = new LinkedHashMap<>();
    demand.forEach(
        (name, amount) -> {
          if (amount > 0) {
            out.put(name + "_group_" + hex, amount);
            if (index >= 0) {
              out.put(name + "_group_" + index + "_" + hex, amount);
            }
          }
        });
    if (out.isEmpty() && marker) {
      out.put("bundle_group_" + hex, BUNDLE_SHARE);
      if (index >= 0) {
        out.put("bundle_group_" + index + "_" + hex, BUNDLE_SHARE);
      }
    }
    return out;
  }

  private static boolean fits(Map<String, Double> demand, Map<String, Double> bundle) {
    return demand.entrySet().stream()
        .allMatch(e -> e.getValue() <= 0 || bundle.getOrDefault(e.getKey(), 0.0) >= e.getValue());
  }
}
