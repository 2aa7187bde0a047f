package io.ray.runtime.serialization;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * What a Java task threw, as stored in its return object ({@code JAVA_ERROR}): the exception's
 * class, message and stack trace as text, so that any caller can show it whether or not it can load
 * the class. Immutable.
 */
public record JavaError(
    String className, String message, String stackTrace, String taskName, int pid, String ip) {
  public static JavaError of(Throwable t, String taskName, int pid, String ip) {
    StringWriter trace = new StringWriter();
    t.printStackTrace(new PrintWriter(trace));
    return new JavaError(
        t.getClass().getName(), t.getMessage(), trace.toString(), taskName, pid, ip);
  }

  /** The text a caller's RayTaskException carries: where it ran, then the remote trace. */
  public String describe() {
    return "Task " + taskName + " raised " + className + ": " + message + "\n" + stackTrace;
  }
}
