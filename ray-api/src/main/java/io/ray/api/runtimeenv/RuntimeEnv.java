package io.ray.api.runtimeenv;

import io.ray.api.exception.RuntimeEnvException;

/**
 * The environment a job, task or actor runs in (environment variables, jars, ...), keyed by the
 * names in {@link io.ray.api.runtimeenv.types.RuntimeEnvName}. Instances come from the runtime
 * ({@link Builder}, {@link #deserialize}).
 */
public interface RuntimeEnv {

  /** Sets field {@code name} to {@code value}, which is serialized to JSON. */
  void set(String name, Object value) throws RuntimeEnvException;

  /** Sets field {@code name} to a value given as a JSON string. */
  void setJsonStr(String name, String jsonStr) throws RuntimeEnvException;

  /** Reads field {@code name} as a {@code type}. */
  <T> T get(String name, Class<T> type) throws RuntimeEnvException;

  /** Reads field {@code name} as a JSON string. */
  String getJsonStr(String name) throws RuntimeEnvException;

  /** Whether field {@code name} is set. */
  boolean contains(String name);

  /** Removes field {@code name}; returns whether it was set. */
  boolean remove(String name) throws RuntimeEnvException;

  /** The whole environment as a JSON string. */
  String serialize() throws RuntimeEnvException;

  /** Whether no field is set. */
  boolean isEmpty();

  /** The environment with its config, in the form the runtime sends along with a task. */
  String serializeToRuntimeEnvInfo() throws RuntimeEnvException;

  /** Reads an environment from {@link #serialize()}'s form (through the runtime). */
  static RuntimeEnv deserialize(String serializedRuntimeEnv) throws RuntimeEnvException {
    return io.ray.api.Ray.internal().deserializeRuntimeEnv(serializedRuntimeEnv);
  }

  /** Sets how the environment is set up (timeout, eager install). */
  void setConfig(RuntimeEnvConfig runtimeEnvConfig);

  /** How the environment is set up, or null if not configured. */
  RuntimeEnvConfig getConfig();

  /** Creates empty runtime environments (through the runtime). */
  class Builder {
    /** An empty environment. */
    public RuntimeEnv build() {
      return io.ray.api.Ray.internal().createRuntimeEnv();
    }
  }
}
