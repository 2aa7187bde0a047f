package io.ray.api.options;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** What every task and actor creation asks for: the resources it needs. */
public abstract class BaseTaskOptions implements Serializable {

  private final Map<String, Double> resources;

  /**
   * Checks and keeps {@code resources}. Entries of zero are kept, so that the runtime can tell an
   * explicit zero (for example {@code "CPU" = 0}) from its default.
   *
   * @throws IllegalArgumentException if the map, a name or an amount is null, an amount is
   *     negative, or an amount above 1 is not a whole number
   */
  public BaseTaskOptions(Map<String, Double> resources) {
    if (resources == null) {
      throw new IllegalArgumentException("The resources map must not be null");
    }
    Map<String, Double> kept = new LinkedHashMap<>();
    for (Map.Entry<String, Double> entry : resources.entrySet()) {
      String name = entry.getKey();
      Double amount = entry.getValue();
      if (name == null || amount == null) {
        throw new IllegalArgumentException(
            "A resource name and amount must not be null, got " + name + " = " + amount);
      }
      if (amount < 0 || amount.isNaN()) {
        throw new IllegalArgumentException(
            "A resource amount must not be negative, got " + name + " = " + amount);
      }
      if (amount > 1 && amount != Math.floor(amount)) {
        throw new IllegalArgumentException(
            "A resource amount above 1 must be a whole number, got " + name + " = " + amount);
      }
      kept.put(name, amount);
    }
    this.resources = Collections.unmodifiableMap(kept);
  }

  /** The resources needed, by name (unmodifiable). */
  public Map<String, Double> getResources() {
    return resources;
  }
}
