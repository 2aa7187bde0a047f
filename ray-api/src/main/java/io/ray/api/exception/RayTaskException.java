package io.ray.api.exception;

/**
 * A task threw an exception. Getting its result raises this, with the task's own exception as the
 * cause.
 */
public class RayTaskException extends RayException {

  public RayTaskException(String message) {
    super(message);
  }

  /**
   * An exception raised by a task that ran in process {@code pid} on the host {@code ipAddress}.
   */
  public RayTaskException(int pid, String ipAddress, String message, Throwable cause) {
    super(String.format("(pid=%d, ip=%s) %s", pid, ipAddress, message), cause);
  }
}
