package io.ray.engine.common;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * An immutable multiset of resources ({"CPU": 2, "GPU": 0.5, ...}) held in fixed point (1/10000
 * units, as Ray does) so that adding and subtracting fractions never drifts. Absent names mean
 * zero; zero entries are not stored.
 */
public final class ResourceSet {
  /** Fixed-point units per whole resource unit. */
  public static final long SCALE = 10_000;

  public static final ResourceSet EMPTY = new ResourceSet(new TreeMap<>());

  private final TreeMap<String, Long> units;

  private ResourceSet(TreeMap<String, Long> units) {
    this.units = units;
  }

  public static ResourceSet of(Map<String, Double> amounts) {
    TreeMap<String, Long> u = new TreeMap<>();
    for (Map.Entry<String, Double> e : amounts.entrySet()) {
      long v = Math.round(e.getValue() * SCALE);
      if (v != 0) {
        u.put(e.getKey(), v);
      }
    }
    return new ResourceSet(u);
  }

  public static ResourceSet of(String name, double amount) {
    return of(Map.of(name, amount));
  }

  public double get(String name) {
    return units.getOrDefault(name, 0L) / (double) SCALE;
  }

  /** True when every amount in {@code request} is available here. */
  public boolean contains(ResourceSet request) {
    for (Map.Entry<String, Long> e : request.units.entrySet()) {
      if (units.getOrDefault(e.getKey(), 0L) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  public ResourceSet plus(ResourceSet other) {
    TreeMap<String, Long> u = new TreeMap<>(units);
    other.units.forEach((k, v) -> u.merge(k, v, Long::sum));
    u.values().removeIf(v -> v == 0);
    return new ResourceSet(u);
  }

  /** Subtracts; results may go negative (a blocked worker taking its CPU back oversubscribes). */
  public ResourceSet minus(ResourceSet other) {
    TreeMap<String, Long> u = new TreeMap<>(units);
    other.units.forEach((k, v) -> u.merge(k, -v, Long::sum));
    u.values().removeIf(v -> v == 0);
    return new ResourceSet(u);
  }

  /** Only the named resource, or EMPTY. */
  public ResourceSet only(String name) {
    Long v = units.get(name);
    if (v == null) {
      return EMPTY;
    }
    TreeMap<String, Long> u = new TreeMap<>();
    u.put(name, v);
    return new ResourceSet(u);
  }

  /** The entries whose names pass {@code keep}. */
  public ResourceSet filter(java.util.function.Predicate<String> keep) {
    TreeMap<String, Long> u = new TreeMap<>();
    units.forEach(
        (k, v) -> {
          if (keep.test(k)) {
            u.put(k, v);
          }
        });
    return new ResourceSet(u);
  }

  /** Whether some entry's name passes {@code test}. */
  public boolean anyName(java.util.function.Predicate<String> test) {
    for (String k : units.keySet()) {
      if (test.test(k)) {
        return true;
      }
    }
    return false;
  }

  public boolean isEmpty() {
    return units.isEmpty();
  }

  public Map<String, Double> toMap() {
    TreeMap<String, Double> m = new TreeMap<>();
    units.forEach((k, v) -> m.put(k, v / (double) SCALE));
    return Collections.unmodifiableMap(m);
  }

  /** As {@link #toMap}, with negative amounts (an oversubscribed node) reported as zero. */
  public Map<String, Double> toNonNegativeMap() {
    TreeMap<String, Double> m = new TreeMap<>();
    units.forEach((k, v) -> m.put(k, Math.max(0, v) / (double) SCALE));
    return Collections.unmodifiableMap(m);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ResourceSet && ((ResourceSet) o).units.equals(units);
  }

  @Override
  public int hashCode() {
    return units.hashCode();
  }

  @Override
  public String toString() {
    return toMap().toString();
  }
}
