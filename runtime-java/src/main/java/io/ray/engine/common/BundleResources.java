package io.ray.engine.common;

import com.google.protobuf.ByteString;
import java.util.HashMap;
import java.util.Map;

/**
 * How a placement group's bundles show up as resources, with Ray's names. A committed bundle {@code
 * i} of group {@code H} (hex id) with {@code {"CPU": 2}} adds {@code CPU_group_i_H: 2} (that
 * bundle), {@code CPU_group_H: 2} (any bundle of the group), and {@code bundle_group_i_H: 1000},
 * {@code bundle_group_H: 1000} (where a task that needs no resources of the group runs). A task
 * placed in bundle {@code i} needs both the indexed and the group-wide name, so that the two stay
 * consistent; one placed in any bundle needs the group-wide name only.
 *
 * <p>Pure functions.
 */
public final class BundleResources {
  /** Units of the bundle marker resource per bundle (as Ray). */
  public static final double BUNDLE_UNITS = 1000;

  private static final String GROUP = "_group_";

  private BundleResources() {}

  /** The resources a committed bundle adds to its node. */
  public static ResourceSet of(ByteString groupId, int index, ResourceSet bundle) {
    String hex = Ids.hex(groupId);
    Map<String, Double> out = new HashMap<>();
    bundle
        .toMap()
        .forEach(
            (name, amount) -> {
              out.put(name + GROUP + index + "_" + hex, amount);
              out.put(name + GROUP + hex, amount);
            });
    out.put("bundle" + GROUP + index + "_" + hex, BUNDLE_UNITS);
    out.put("bundle" + GROUP + hex, BUNDLE_UNITS);
    return ResourceSet.of(out);
  }

  /** Whether a resource name belongs to some placement group. */
  public static boolean isGroupResource(String name) {
    return name.contains(GROUP);
  }

  /** The hex id of the group a resource name belongs to, or null. */
  public static String groupOf(String name) {
    int at = name.lastIndexOf('_');
    return isGroupResource(name) && at > 0 ? name.substring(at + 1) : null;
  }

  /** Whether a demand needs resources of placement groups. */
  public static boolean inGroup(ResourceSet demand) {
    return demand.anyName(BundleResources::isGroupResource);
  }
}
