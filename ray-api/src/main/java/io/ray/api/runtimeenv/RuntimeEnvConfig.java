package io.ray.api.runtimeenv;

/** How a runtime environment is set up: the set-up timeout and whether to install eagerly. */
public class RuntimeEnvConfig {

  private Integer setupTimeoutSeconds;
  private Boolean eagerInstall;

  /** A config with nothing set (the runtime's defaults apply). */
  public RuntimeEnvConfig() {}

  public RuntimeEnvConfig(int setupTimeoutSeconds, boolean eagerInstall) {
    this.setupTimeoutSeconds = setupTimeoutSeconds;
    this.eagerInstall = eagerInstall;
  }

  /** Sets how long setting the environment up may take, in seconds ({@code -1}: no limit). */
  public void setSetupTimeoutSeconds(int setupTimeoutSeconds) {
    this.setupTimeoutSeconds = setupTimeoutSeconds;
  }

  /** The set-up timeout in seconds, or null if not set. */
  public Integer getSetupTimeoutSeconds() {
    return setupTimeoutSeconds;
  }

  /** Sets whether the environment is installed when the job starts rather than on first use. */
  public void setEagerInstall(boolean eagerInstall) {
    this.eagerInstall = eagerInstall;
  }

  /** Whether the environment is installed eagerly, or null if not set. */
  public Boolean getEagerInstall() {
    return eagerInstall;
  }
}
