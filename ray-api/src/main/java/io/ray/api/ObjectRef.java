package io.ray.api;

/**
 * A reference to an object in the object store: the result of a remote call or of {@link Ray#put}.
 * Pass it to other calls or read it with {@link Ray#get}. Implemented by the runtime.
 */
public interface ObjectRef<T> {

  /** Waits for the object and returns it (as {@code Ray.get(this)}). */
  T get();

  /**
   * Waits at most {@code timeoutMs} milliseconds for the object and returns it.
   *
   * @throws io.ray.api.exception.RayTimeoutException if the object is not ready in time
   */
  T get(long timeoutMs);
}
