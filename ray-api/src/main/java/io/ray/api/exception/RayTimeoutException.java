package io.ray.api.exception;

/** A call with a timeout (for example {@code Ray.get(ref, timeoutMs)}) ran out of time. */
public class RayTimeoutException extends RayException {

  public RayTimeoutException(String message) {
    super(message);
  }

  public RayTimeoutException(String message, Throwable cause) {
    super(message, cause);
  }
}
