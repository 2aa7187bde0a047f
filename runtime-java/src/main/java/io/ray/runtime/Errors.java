package io.ray.runtime;

import io.ray.api.exception.RayActorException;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayWorkerException;

/** Errors the engine stores in place of a value, as the Java API's exceptions. Pure. */
final class Errors {
  private Errors() {}

  static RayException fromEngine(String errorType, String message) {
    String text = errorType + ": " + message;
    if (errorType.startsWith("Actor") || errorType.equals("RayActorError")) {
      // The engine's error names no process: Ray's message without "(pid=..., ip=...)", and
      // the engine's reason as the cause.
      RayActorException e = new RayActorException();
      e.initCause(new RayException(text));
      return e;
    }
    if (errorType.equals("CrossLanguageError")) {
      // What a Python task raised, called from Java: its type, message and traceback.
      return new io.ray.api.exception.CrossLanguageException(message);
    }
    if (errorType.equals("WorkerCrashedError")) {
      return new RayWorkerException(text);
    }
    return new RayException(text);
  }
}
