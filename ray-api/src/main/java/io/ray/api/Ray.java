package io.ray.api;

import io.ray.api.runtime.RayRuntime;
import io.ray.api.runtime.RayRuntimeFactory;
import io.ray.api.runtimecontext.RuntimeContext;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The entry point of Ray's Java API: start with {@link #init()}, submit tasks with {@code
 * Ray.task(...)} and actors with {@code Ray.actor(...)} (inherited from {@link RayCall}), read
 * results with {@link #get}. Every call goes to the {@link RayRuntime} that {@code init()} found.
 */
public final class Ray extends RayCall {

  private static final String NOT_INITIALIZED = "Ray is not initialized: call Ray.init() first";

  private static volatile RayRuntime runtime;
  private static boolean shutdownHookAdded;

  private Ray() {}

  /**
   * Starts or connects to Ray, as the configuration of this process says. Does nothing if Ray is
   * already initialized. The runtime is the first {@link RayRuntimeFactory} that {@link
   * ServiceLoader} finds; a hook shuts Ray down when the JVM exits.
   *
   * @throws IllegalStateException if no runtime is on the class path
   */
  public static synchronized void init() {
    if (runtime != null) {
      return;
    }
    RayRuntimeFactory factory =
        ServiceLoader.load(RayRuntimeFactory.class)
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "No Ray runtime found: the runtime jar (which provides "
                            + RayRuntimeFactory.class.getName()
                            + " through META-INF/services) is missing from the class path"));
    runtime = factory.createRayRuntime();
    if (!shutdownHookAdded) {
      Runtime.getRuntime().addShutdownHook(new Thread(Ray::shutdown, "ray-shutdown"));
      shutdownHookAdded = true;
    }
  }

  /** Disconnects from Ray; does nothing if Ray is not initialized. */
  public static synchronized void shutdown() {
    RayRuntime current = runtime;
    if (current != null) {
      runtime = null;
      current.shutdown();
    }
  }

  /** Whether {@link #init()} has run and {@link #shutdown()} has not since. */
  public static boolean isInitialized() {
    return runtime != null;
  }

  /** Stores {@code obj} in the object store and returns a reference to it. */
  public static <T> ObjectRef<T> put(T obj) {
    return internal().put(obj);
  }

  /**
   * Waits at most {@code timeoutMs} milliseconds for an object and returns it.
   *
   * @throws io.ray.api.exception.RayTimeoutException if it is not ready in time
   * @throws io.ray.api.exception.RayTaskException if the task that makes it failed
   */
  public static <T> T get(ObjectRef<T> objectRef, long timeoutMs) {
    return internal().get(objectRef, timeoutMs);
  }

  /**
   * Waits for an object and returns it.
   *
   * @throws io.ray.api.exception.RayTaskException if the task that makes it failed
   */
  public static <T> T get(ObjectRef<T> objectRef) {
    return internal().get(objectRef, -1);
  }

  /**
   * Waits at most {@code timeoutMs} milliseconds for objects and returns them, in order.
   *
   * @throws io.ray.api.exception.RayTimeoutException if they are not all ready in time
   */
  public static <T> List<T> get(List<ObjectRef<T>> objectList, long timeoutMs) {
    return internal().get(objectList, timeoutMs);
  }

  /** Waits for objects and returns them, in order. */
  public static <T> List<T> get(List<ObjectRef<T>> objectList) {
    return internal().get(objectList, -1);
  }

  /**
   * Waits until {@code numReturns} of the objects are ready or {@code timeoutMs} milliseconds have
   * passed.
   *
   * @param fetchLocal whether an object counts as ready only once it is on this node
   */
  public static <T> WaitResult<T> wait(
      List<ObjectRef<T>> waitList, int numReturns, int timeoutMs, boolean fetchLocal) {
    return internal().wait(waitList, numReturns, timeoutMs, fetchLocal);
  }

  /**
   * Waits until {@code numReturns} of the objects are ready on this node or {@code timeoutMs}
   * milliseconds have passed.
   */
  public static <T> WaitResult<T> wait(List<ObjectRef<T>> waitList, int numReturns, int timeoutMs) {
    return wait(waitList, numReturns, timeoutMs, true);
  }

  /** Waits without limit until {@code numReturns} of the objects are ready on this node. */
  public static <T> WaitResult<T> wait(List<ObjectRef<T>> waitList, int numReturns) {
    return wait(waitList, numReturns, -1);
  }

  /** Waits without limit until all the objects are ready on this node. */
  public static <T> WaitResult<T> wait(List<ObjectRef<T>> waitList) {
    return wait(waitList, waitList.size());
  }

  /**
   * Finds the actor named {@code name} in the current job's namespace.
   *
   * @return a handle to it, or empty if there is none
   */
  public static <T extends BaseActorHandle> Optional<T> getActor(String name) {
    return internal().getActor(name, null);
  }

  /**
   * Finds the actor named {@code name} in {@code namespace}.
   *
   * @return a handle to it, or empty if there is none
   */
  public static <T extends BaseActorHandle> Optional<T> getActor(String name, String namespace) {
    return internal().getActor(name, namespace);
  }

  /**
   * The runtime behind this API.
   *
   * @throws IllegalStateException if Ray is not initialized
   */
  public static RayRuntime internal() {
    RayRuntime current = runtime;
    if (current == null) {
      throw new IllegalStateException(NOT_INITIALIZED);
    }
    return current;
  }

  /** What the running code can learn about where it runs. */
  public static RuntimeContext getRuntimeContext() {
    return internal().getRuntimeContext();
  }

  /** Ends the current actor cleanly, without restarting it; call it only inside an actor. */
  public static void exitActor() {
    internal().exitActor();
  }
}
