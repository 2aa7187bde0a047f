package io.ray.api.exception;

/** The base of the errors Ray raises; unchecked. */
public class RayException extends RuntimeException {

  public RayException(String message) {
    super(message);
  }

  public RayException(String message, Throwable cause) {
    super(message, cause);
  }
}
