package io.ray.api.options;

import io.ray.api.placementgroup.PlacementStrategy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a new placement group reserves: its bundles, their strategy and the group's name. */
public class PlacementGroupCreationOptions {

  private final String name;
  private final List<Map<String, Double>> bundles;
  private final PlacementStrategy strategy;

  /**
   * Checks and keeps the options.
   *
   * @throws IllegalArgumentException if there are no bundles, a bundle is empty or asks for a
   *     non-positive amount, or the strategy is null
   */
  public PlacementGroupCreationOptions(
      String name, List<Map<String, Double>> bundles, PlacementStrategy strategy) {
    if (bundles == null || bundles.isEmpty()) {
      throw new IllegalArgumentException("A placement group needs at least one bundle");
    }
    List<Map<String, Double>> kept = new ArrayList<>();
    for (Map<String, Double> bundle : bundles) {
      if (bundle == null || bundle.isEmpty()) {
        throw new IllegalArgumentException("A placement group bundle must not be empty");
      }
      for (Map.Entry<String, Double> entry : bundle.entrySet()) {
        if (entry.getKey() == null || entry.getValue() == null || !(entry.getValue() > 0)) {
          throw new IllegalArgumentException(
              "A bundle's resource amounts must be positive, got "
                  + entry.getKey()
                  + " = "
                  + entry.getValue());
        }
      }
      kept.add(Collections.unmodifiableMap(new LinkedHashMap<>(bundle)));
    }
    if (strategy == null) {
      throw new IllegalArgumentException("A placement group needs a strategy");
    }
    this.name = name == null ? "" : name;
    this.bundles = Collections.unmodifiableList(kept);
    this.strategy = strategy;
  }

  /** The group's name, or an empty string. */
  public String getName() {
    return name;
  }

  /** The bundles to reserve (unmodifiable). */
  public List<Map<String, Double>> getBundles() {
    return bundles;
  }

  /** How the bundles are spread over nodes. */
  public PlacementStrategy getStrategy() {
    return strategy;
  }

  /** Collects placement group options; the strategy defaults to {@code PACK}. */
  public static class Builder {

    private String name;
    private List<Map<String, Double>> bundles;
    private PlacementStrategy strategy = PlacementStrategy.PACK;

    /** Names the group. */
    public Builder setName(String name) {
      this.name = name;
      return this;
    }

    /** Sets the bundles to reserve, each a map from resource name to amount. */
    public Builder setBundles(List<Map<String, Double>> bundles) {
      this.bundles = bundles;
      return this;
    }

    /** Sets how the bundles are spread over nodes. */
    public Builder setStrategy(PlacementStrategy strategy) {
      this.strategy = strategy;
      return this;
    }

    /**
     * The options as set so far.
     *
     * @throws IllegalArgumentException if the options are invalid
     */
    public PlacementGroupCreationOptions build() {
      return new PlacementGroupCreationOptions(name, bundles, strategy);
    }
  }
}
