package io.ray.api.exception;

/** A task or actor written in another language (for example Python) raised an error. */
public class CrossLanguageException extends RayException {

  public CrossLanguageException(String message) {
    super(message);
  }
}
