package io.ray.api.exception;

/** The worker process running a task died before the task finished. */
public class RayWorkerException extends RayException {

  public RayWorkerException() {
    super("The worker died unexpectedly while executing this task.");
  }

  public RayWorkerException(String message) {
    super(message);
  }

  public RayWorkerException(String message, Throwable cause) {
    super(message, cause);
  }
}
