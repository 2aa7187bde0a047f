package io.ray.api.runtimeenv.types;

/** Names of the runtime environment fields Java programs set. */
public class RuntimeEnvName {

  /** Environment variables: a {@code Map<String, String>}. */
  public static final String ENV_VARS = "env_vars";

  /** Jars to add to the class path: a {@code List<String>} of URLs or paths. */
  public static final String JARS = "java_jars";
}
