package io.ray.api.exception;

/**
 * Thrown inside an actor to end it on purpose (see {@code Ray.exitActor()}); the runtime treats it
 * as a clean exit rather than a failure.
 */
public class RayIntentionalSystemExitException extends RuntimeException {

  public RayIntentionalSystemExitException(String message) {
    super(message);
  }

  public RayIntentionalSystemExitException(String message, Throwable cause) {
    super(message, cause);
  }
}
