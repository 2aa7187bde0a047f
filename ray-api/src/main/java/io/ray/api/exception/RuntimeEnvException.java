package io.ray.api.exception;

/** A runtime environment could not be built, read or set up. */
public class RuntimeEnvException extends RayException {

  public RuntimeEnvException(String message) {
    super(message);
  }

  public RuntimeEnvException(String message, Throwable cause) {
    super(message, cause);
  }
}
