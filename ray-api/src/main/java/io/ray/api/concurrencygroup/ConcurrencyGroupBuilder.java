package io.ray.api.concurrencygroup;

import io.ray.api.function.RayFunc;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds a {@link ConcurrencyGroup} of actor class {@code A}: a name, a concurrency limit and the
 * methods ({@code addMethod(A::method)}) that run in it.
 */
public class ConcurrencyGroupBuilder<A> extends BaseConcurrencyGroupBuilder<A> {

  private String name;
  private int maxConcurrency = 1;
  private final List<RayFunc> funcs = new ArrayList<>();

  /** Sets the group's name (required). */
  public ConcurrencyGroupBuilder<A> setName(String name) {
    this.name = name;
    return this;
  }

  /** Sets how many calls of the group may run at once (default 1). */
  public ConcurrencyGroupBuilder<A> setMaxConcurrency(int maxConcurrency) {
    this.maxConcurrency = maxConcurrency;
    return this;
  }

  /**
   * The group as set so far.
   *
   * @throws IllegalArgumentException if the name is missing or the limit is not positive
   */
  public ConcurrencyGroup build() {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("A concurrency group needs a name");
    }
    if (maxConcurrency <= 0) {
      throw new IllegalArgumentException(
          "maxConcurrency of concurrency group "
              + name
              + " must be positive, got "
              + maxConcurrency);
    }
    return new Group(name, maxConcurrency, List.copyOf(funcs));
  }

  @Override
  protected ConcurrencyGroupBuilder<A> internalAddMethod(RayFunc func) {
    funcs.add(Objects.requireNonNull(func, "func"));
    return this;
  }

  private record Group(String name, int maxConcurrency, List<RayFunc> functions)
      implements ConcurrencyGroup, Serializable {

    @Override
    public String getName() {
      return name;
    }

    @Override
    public int getMaxConcurrency() {
      return maxConcurrency;
    }

    @Override
    public List<RayFunc> getFunctions() {
      return functions;
    }
  }
}
