package io.ray.api.fake;

import io.ray.api.runtime.RayRuntime;
import io.ray.api.runtime.RayRuntimeFactory;

/** Creates {@link FakeRuntime}s; registered in META-INF/services of the test class path. */
public final class FakeRuntimeFactory implements RayRuntimeFactory {

  /** The runtime created last. */
  public static volatile FakeRuntime last;

  @Override
  public RayRuntime createRayRuntime() {
    last = new FakeRuntime();
    return last;
  }
}
