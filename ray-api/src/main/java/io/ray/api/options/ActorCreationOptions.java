package io.ray.api.options;

import io.ray.api.concurrencygroup.ConcurrencyGroup;
import io.ray.api.placementgroup.PlacementGroup;
import io.ray.api.runtimeenv.RuntimeEnv;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The options of one actor creation, read by the runtime. Immutable; see {@link Builder}. */
public class ActorCreationOptions extends BaseTaskOptions {

  /** {@link #getMaxRestarts()} of an actor that is never restarted. */
  public static final int NO_RESTART = 0;

  /** {@link #getMaxRestarts()} of an actor that is restarted without limit. */
  public static final int INFINITE_RESTART = -1;

  private final String name;
  private final ActorLifetime lifetime;
  private final int maxRestarts;
  private final int maxTaskRetries;
  private final List<String> jvmOptions;
  private final int maxConcurrency;
  private final PlacementGroup group;
  private final int bundleIndex;
  private final List<ConcurrencyGroup> concurrencyGroups;
  private final RuntimeEnv runtimeEnv;
  private final String namespace;
  private final int maxPendingCalls;
  private final boolean isAsync;

  private ActorCreationOptions(Builder builder) {
    super(builder.resources);
    this.name = builder.name;
    this.lifetime = builder.lifetime;
    this.maxRestarts = builder.maxRestarts;
    this.maxTaskRetries = builder.maxTaskRetries;
    this.jvmOptions = List.copyOf(builder.jvmOptions);
    this.maxConcurrency = builder.maxConcurrency;
    this.group = builder.group;
    this.bundleIndex = builder.bundleIndex;
    this.concurrencyGroups = List.copyOf(builder.concurrencyGroups);
    this.runtimeEnv = builder.runtimeEnv;
    this.namespace = builder.namespace;
    this.maxPendingCalls = builder.maxPendingCalls;
    this.isAsync = builder.isAsync;
  }

  /** The actor's name (so that {@code Ray.getActor} finds it), or null. */
  public String getName() {
    return name;
  }

  /** Whether the actor outlives its job, or null for the default ({@code NON_DETACHED}). */
  public ActorLifetime getLifetime() {
    return lifetime;
  }

  /** How often the actor is restarted after dying ({@link #INFINITE_RESTART}: no limit). */
  public int getMaxRestarts() {
    return maxRestarts;
  }

  /** How often a call is retried when the actor dies running it ({@code -1}: no limit). */
  public int getMaxTaskRetries() {
    return maxTaskRetries;
  }

  /** Extra options for the JVM the actor runs in (unmodifiable). */
  public List<String> getJvmOptions() {
    return jvmOptions;
  }

  /** How many calls the actor runs at once (default 1). */
  public int getMaxConcurrency() {
    return maxConcurrency;
  }

  /** The placement group to run in, or null. */
  public PlacementGroup getGroup() {
    return group;
  }

  /** The bundle of {@link #getGroup()} to run in; {@code -1} means any bundle. */
  public int getBundleIndex() {
    return bundleIndex;
  }

  /** The actor's concurrency groups (unmodifiable). */
  public List<ConcurrencyGroup> getConcurrencyGroups() {
    return concurrencyGroups;
  }

  /** The runtime environment to run in, or null to inherit the job's. */
  public RuntimeEnv getRuntimeEnv() {
    return runtimeEnv;
  }

  /** {@link #getRuntimeEnv()} in the runtime's wire form, or an empty string if none is set. */
  public String getSerializedRuntimeEnv() {
    return runtimeEnv == null ? "" : runtimeEnv.serializeToRuntimeEnvInfo();
  }

  /** The namespace the actor's name lives in, or null for the job's namespace. */
  public String getNamespace() {
    return namespace;
  }

  /** How many calls may wait for the actor before new ones fail ({@code -1}: no limit). */
  public int getMaxPendingCalls() {
    return maxPendingCalls;
  }

  /** Whether the actor is asynchronous (a Python asyncio actor). */
  public boolean isAsync() {
    return isAsync;
  }

  /** Whether the actor may run calls out of submission order (true for asynchronous actors). */
  public boolean allowsOutOfOrderExecution() {
    return isAsync;
  }

  /** Collects actor options; {@link #build()} makes an immutable {@link ActorCreationOptions}. */
  public static class Builder {

    private String name;
    private ActorLifetime lifetime;
    private final Map<String, Double> resources = new HashMap<>();
    private int maxRestarts = NO_RESTART;
    private int maxTaskRetries = 0;
    private List<String> jvmOptions = new ArrayList<>();
    private int maxConcurrency = 1;
    private PlacementGroup group;
    private int bundleIndex = -1;
    private List<ConcurrencyGroup> concurrencyGroups = new ArrayList<>();
    private RuntimeEnv runtimeEnv;
    private String namespace;
    private int maxPendingCalls = -1;
    private boolean isAsync;

    /** Names the actor. */
    public Builder setName(String name) {
      this.name = name;
      return this;
    }

    /** Sets whether the actor outlives its job. */
    public Builder setLifetime(ActorLifetime lifetime) {
      this.lifetime = lifetime;
      return this;
    }

    /** Asks for {@code value} of resource {@code name} for the actor's whole life. */
    public Builder setResource(String name, Double value) {
      this.resources.put(name, value);
      return this;
    }

    /** Asks for each of {@code resources}, in addition to those already set. */
    public Builder setResources(Map<String, Double> resources) {
      this.resources.putAll(resources);
      return this;
    }

    /** Sets how often the actor is restarted after dying. */
    public Builder setMaxRestarts(int maxRestarts) {
      this.maxRestarts = maxRestarts;
      return this;
    }

    /** Sets how often a call is retried when the actor dies running it. */
    public Builder setMaxTaskRetries(int maxTaskRetries) {
      this.maxTaskRetries = maxTaskRetries;
      return this;
    }

    /** Sets extra options for the JVM the actor runs in. */
    public Builder setJvmOptions(List<String> jvmOptions) {
      this.jvmOptions = new ArrayList<>(jvmOptions);
      return this;
    }

    /**
     * Sets how many calls the actor runs at once.
     *
     * @throws IllegalArgumentException if {@code maxConcurrency} is not positive
     */
    public Builder setMaxConcurrency(int maxConcurrency) {
      if (maxConcurrency <= 0) {
        throw new IllegalArgumentException(
            "maxConcurrency must be greater than 0, got " + maxConcurrency);
      }
      this.maxConcurrency = maxConcurrency;
      return this;
    }

    /**
     * Sets how many calls may wait for the actor before new ones fail.
     *
     * @throws IllegalArgumentException unless {@code maxPendingCalls} is positive or {@code -1}
     */
    public Builder setMaxPendingCalls(int maxPendingCalls) {
      if (maxPendingCalls <= 0 && maxPendingCalls != -1) {
        throw new IllegalArgumentException(
            "maxPendingCalls must be greater than 0, or -1 for no limit, got " + maxPendingCalls);
      }
      this.maxPendingCalls = maxPendingCalls;
      return this;
    }

    /** Sets whether the actor is asynchronous. */
    public Builder setAsync(boolean isAsync) {
      this.isAsync = isAsync;
      return this;
    }

    /** Runs the actor in bundle {@code bundleIndex} of {@code group} ({@code -1}: any bundle). */
    public Builder setPlacementGroup(PlacementGroup group, int bundleIndex) {
      this.group = group;
      this.bundleIndex = bundleIndex;
      return this;
    }

    /** Sets the actor's concurrency groups. */
    public Builder setConcurrencyGroups(List<ConcurrencyGroup> concurrencyGroups) {
      this.concurrencyGroups = new ArrayList<>(concurrencyGroups);
      return this;
    }

    /** Runs the actor in {@code runtimeEnv}. */
    public Builder setRuntimeEnv(RuntimeEnv runtimeEnv) {
      this.runtimeEnv = runtimeEnv;
      return this;
    }

    /** Sets the namespace the actor's name lives in. */
    public Builder setNamespace(String namespace) {
      this.namespace = namespace;
      return this;
    }

    /**
     * The options as set so far.
     *
     * @throws IllegalArgumentException if a resource amount is invalid
     */
    public ActorCreationOptions build() {
      return new ActorCreationOptions(this);
    }
  }
}
