package io.ray.api.runtime;

/**
 * Creates the runtime behind {@link io.ray.api.Ray}. An engine provides one implementation and
 * lists it in {@code META-INF/services/io.ray.api.runtime.RayRuntimeFactory}; {@code Ray.init()}
 * finds it with {@link java.util.ServiceLoader}.
 */
public interface RayRuntimeFactory {

  /** Starts or connects to Ray as the configuration of this process says, and returns it. */
  RayRuntime createRayRuntime();
}
