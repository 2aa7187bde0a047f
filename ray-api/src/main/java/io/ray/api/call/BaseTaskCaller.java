package io.ray.api.call;

import io.ray.api.options.CallOptions;
import io.ray.api.placementgroup.PlacementGroup;
import io.ray.api.runtimeenv.RuntimeEnv;
import java.util.Map;

/** The options every normal task call can set before {@code remote()}. */
public class BaseTaskCaller<T extends BaseTaskCaller<T>> {

  private final CallOptions.Builder builder = new CallOptions.Builder();

  /** Names the task (for logs and the dashboard). */
  public T setName(String name) {
    builder.setName(name);
    return self();
  }

  /**
   * Retries the task up to {@code maxRetries} times if its worker dies (-1: forever; default 3). An
   * extension of this runtime: Ray's Java API has no such setter.
   */
  public T setMaxRetries(int maxRetries) {
    builder.setMaxRetries(maxRetries);
    return self();
  }

  /** Asks for {@code value} of resource {@code name}, for example {@code ("CPU", 2.0)}. */
  public T setResource(String name, Double value) {
    builder.setResource(name, value);
    return self();
  }

  /** Asks for each of {@code resources}, in addition to those already set. */
  public T setResources(Map<String, Double> resources) {
    builder.setResources(resources);
    return self();
  }

  /** Runs the task in bundle {@code bundleIndex} of {@code group}. */
  public T setPlacementGroup(PlacementGroup group, int bundleIndex) {
    builder.setPlacementGroup(group, bundleIndex);
    return self();
  }

  /** Runs the task in any bundle of {@code group}. */
  public T setPlacementGroup(PlacementGroup group) {
    return setPlacementGroup(group, -1);
  }

  /** Runs the task in {@code runtimeEnv}. */
  public T setRuntimeEnv(RuntimeEnv runtimeEnv) {
    builder.setRuntimeEnv(runtimeEnv);
    return self();
  }

  @SuppressWarnings("unchecked")
  private T self() {
    return (T) this;
  }

  /** The options set so far. */
  protected CallOptions buildOptions() {
    return builder.build();
  }
}
