package io.ray.runtime;

import io.ray.api.runtime.RayRuntime;
import io.ray.api.runtime.RayRuntimeFactory;

/** Found by {@code Ray.init()} through ServiceLoader: the worker's runtime, or a new driver. */
public final class RayRuntimeFactoryImpl implements RayRuntimeFactory {
  @Override
  public RayRuntime createRayRuntime() {
    WorkerRuntime worker = RuntimeHolder.workerRuntime();
    return worker != null ? worker : DriverRuntime.connect(DriverConfig.fromSystemProperties());
  }
}
