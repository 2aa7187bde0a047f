package io.ray.runtime;

/**
 * Which runtime {@code Ray.init()} gives in this process: a Java worker sets its own before running
 * tasks (so tasks use the worker's connection); elsewhere {@code Ray.init()} starts a driver.
 */
public final class RuntimeHolder {
  private static volatile WorkerRuntime worker;

  private RuntimeHolder() {}

  public static void setWorkerRuntime(WorkerRuntime runtime) {
    worker = runtime;
  }

  static WorkerRuntime workerRuntime() {
    return worker;
  }
}
