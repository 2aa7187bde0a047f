package io.ray.api.concurrencygroup;

import io.ray.api.function.RayFunc;
import java.util.List;

/**
 * A named pool of threads in an actor, with its own limit on concurrent calls, and the actor
 * methods that run in it. Built with {@link ConcurrencyGroupBuilder}.
 */
public interface ConcurrencyGroup {

  /** The group's name. */
  String getName();

  /** How many calls of the group may run at once. */
  int getMaxConcurrency();

  /** The actor methods that run in this group. */
  List<RayFunc> getFunctions();
}
