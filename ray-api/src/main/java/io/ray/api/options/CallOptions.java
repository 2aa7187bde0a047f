package io.ray.api.options;

import io.ray.api.placementgroup.PlacementGroup;
import io.ray.api.runtimeenv.RuntimeEnv;
import java.util.HashMap;
import java.util.Map;

/** The options of one task or actor call, read by the runtime. Immutable; see {@link Builder}. */
public class CallOptions extends BaseTaskOptions {

  private final String name;
  private final PlacementGroup group;
  private final int bundleIndex;
  private final String concurrencyGroupName;
  private final RuntimeEnv runtimeEnv;
  private final Integer maxRetries;

  private CallOptions(Builder builder) {
    super(builder.resources);
    this.name = builder.name;
    this.group = builder.group;
    this.bundleIndex = builder.bundleIndex;
    this.concurrencyGroupName = builder.concurrencyGroupName;
    this.runtimeEnv = builder.runtimeEnv;
    this.maxRetries = builder.maxRetries;
  }

  /** The task's name (for logs and the dashboard), or null for the default. */
  /**
   * Retries of the task after its worker dies (-1: forever); null: Ray's default (3). An extension
   * of this runtime: Ray's Java API has no such option.
   */
  public Integer getMaxRetries() {
    return maxRetries;
  }

  public String getName() {
    return name;
  }

  /** The placement group to run in, or null. */
  public PlacementGroup getGroup() {
    return group;
  }

  /** The bundle of {@link #getGroup()} to run in; {@code -1} means any bundle. */
  public int getBundleIndex() {
    return bundleIndex;
  }

  /** The actor's concurrency group to run an actor call in; empty for the default group. */
  public String getConcurrencyGroupName() {
    return concurrencyGroupName;
  }

  /** The runtime environment to run in, or null to inherit the job's. */
  public RuntimeEnv getRuntimeEnv() {
    return runtimeEnv;
  }

  /** {@link #getRuntimeEnv()} in the runtime's wire form, or an empty string if none is set. */
  public String getSerializedRuntimeEnvInfo() {
    return runtimeEnv == null ? "" : runtimeEnv.serializeToRuntimeEnvInfo();
  }

  /** Collects call options; {@link #build()} makes an immutable {@link CallOptions}. */
  public static class Builder {
    private Integer maxRetries;

    private String name;
    private final Map<String, Double> resources = new HashMap<>();
    private PlacementGroup group;
    private int bundleIndex = -1;
    private String concurrencyGroupName = "";
    private RuntimeEnv runtimeEnv;

    /** Sets the task's name. */
    /** See {@link CallOptions#getMaxRetries()}. */
    public Builder setMaxRetries(int maxRetries) {
      if (maxRetries < -1) {
        throw new IllegalArgumentException(
            "maxRetries must be -1 (forever) or more, got " + maxRetries);
      }
      this.maxRetries = maxRetries;
      return this;
    }

    public Builder setName(String name) {
      this.name = name;
      return this;
    }

    /** Asks for {@code value} of resource {@code name} (for example {@code "CPU", 2.0}). */
    public Builder setResource(String name, Double value) {
      this.resources.put(name, value);
      return this;
    }

    /** Asks for each of {@code resources}, in addition to those already set. */
    public Builder setResources(Map<String, Double> resources) {
      this.resources.putAll(resources);
      return this;
    }

    /** Runs the task in bundle {@code bundleIndex} of {@code group} ({@code -1}: any bundle). */
    public Builder setPlacementGroup(PlacementGroup group, int bundleIndex) {
      this.group = group;
      this.bundleIndex = bundleIndex;
      return this;
    }

    /** Runs an actor call in the actor's concurrency group {@code concurrencyGroupName}. */
    public Builder setConcurrencyGroupName(String concurrencyGroupName) {
      this.concurrencyGroupName = concurrencyGroupName == null ? "" : concurrencyGroupName;
      return this;
    }

    /** Runs the task in {@code runtimeEnv}. */
    public Builder setRuntimeEnv(RuntimeEnv runtimeEnv) {
      this.runtimeEnv = runtimeEnv;
      return this;
    }

    /**
     * The options as set so far.
     *
     * @throws IllegalArgumentException if a resource amount is invalid
     */
    public CallOptions build() {
      return new CallOptions(this);
    }
  }
}
