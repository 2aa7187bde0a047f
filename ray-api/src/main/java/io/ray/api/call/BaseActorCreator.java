package io.ray.api.call;

import io.ray.api.options.ActorCreationOptions;
import io.ray.api.options.ActorLifetime;
import io.ray.api.placementgroup.PlacementGroup;
import java.util.Map;

/** The options every actor creation can set before {@code remote()}. */
public class BaseActorCreator<T extends BaseActorCreator<T>> {

  /** The options collected so far. */
  protected ActorCreationOptions.Builder builder = new ActorCreationOptions.Builder();

  /** Names the actor, so that {@code Ray.getActor(name)} finds it. */
  public T setName(String name) {
    builder.setName(name);
    return self();
  }

  /**
   * Names the actor in {@code namespace}, so that {@code Ray.getActor(name, namespace)} finds it.
   */
  public T setName(String name, String namespace) {
    builder.setName(name);
    builder.setNamespace(namespace);
    return self();
  }

  /** Sets whether the actor outlives its creator's job. */
  public T setLifetime(ActorLifetime lifetime) {
    builder.setLifetime(lifetime);
    return self();
  }

  /** Asks for {@code value} of resource {@code name} for the actor's whole life. */
  public T setResource(String name, Double value) {
    builder.setResource(name, value);
    return self();
  }

  /** Asks for each of {@code resources}, in addition to those already set. */
  public T setResources(Map<String, Double> resources) {
    builder.setResources(resources);
    return self();
  }

  /**
   * Sets how often the actor is restarted after dying ({@link
   * ActorCreationOptions#INFINITE_RESTART}: no limit; default none).
   */
  public T setMaxRestarts(int maxRestarts) {
    builder.setMaxRestarts(maxRestarts);
    return self();
  }

  /** Sets how often a call is retried when the actor dies running it ({@code -1}: no limit). */
  public T setMaxTaskRetries(int maxTaskRetries) {
    builder.setMaxTaskRetries(maxTaskRetries);
    return self();
  }

  /** Sets how many calls the actor runs at once (default 1). */
  public T setMaxConcurrency(int maxConcurrency) {
    builder.setMaxConcurrency(maxConcurrency);
    return self();
  }

  /** Sets how many calls may wait for the actor before new ones fail ({@code -1}: no limit). */
  public T setMaxPendingCalls(int maxPendingCalls) {
    builder.setMaxPendingCalls(maxPendingCalls);
    return self();
  }

  /** Runs the actor in bundle {@code bundleIndex} of {@code group}. */
  public T setPlacementGroup(PlacementGroup group, int bundleIndex) {
    builder.setPlacementGroup(group, bundleIndex);
    return self();
  }

  /** Runs the actor in any bundle of {@code group}. */
  public T setPlacementGroup(PlacementGroup group) {
    return setPlacementGroup(group, -1);
  }

  @SuppressWarnings("unchecked")
  private T self() {
    return (T) this;
  }

  /** The options set so far. */
  protected ActorCreationOptions buildOptions() {
    return builder.build();
  }
}
