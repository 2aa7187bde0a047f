package io.ray.api.runtimeenv;

import io.ray.api.exception.RuntimeEnvException;

/**
 * The environment a job, task or actor runs in (environment variables, jars, ...), keyed by the
 * names in {@link io.ray.api.runtimeenv.types.RuntimeEnvName}. Instances come from the runtime.
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

  /**
   * Reads an environment from {@link #serialize()}'s form. Not supported by this runtime yet.
   *
   * @throws UnsupportedOperationException always
   */
  static RuntimeEnv deserialize(String serializedRuntimeEnv) throws RuntimeEnvException {
    throw new UnsupportedOperationException(
        "RuntimeEnv.deserialize is not supported by this Ray (Ray on the JVM) yet");
  }

  /** Sets how the environment is set up (timeout, eager install). */
  void setConfig(RuntimeEnvConfig runtimeEnvConfig);

  /** How the environment is set up, or null if not configured. */
  RuntimeEnvConfig getConfig();

  /** Creates empty runtime environments. Not supported by this runtime yet. */
  class Builder {

    /**
     * An empty environment.
     *
     * @throws UnsupportedOperationException always: runtime environments are not supported yet
     */
    public RuntimeEnv build() {
      throw new UnsupportedOperationException(
          "RuntimeEnv.Builder.build is not supported by this Ray (Ray on the JVM) yet");
    }
  }
}
