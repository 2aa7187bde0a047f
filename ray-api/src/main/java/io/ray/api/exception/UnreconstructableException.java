package io.ray.api.exception;

import io.ray.api.id.ObjectId;

/** An object was lost and cannot be computed again. */
public class UnreconstructableException extends RayException {

  /** The lost object, when known. */
  public ObjectId objectId;

  public UnreconstructableException(ObjectId objectId) {
    super("The object " + objectId + " is lost and cannot be reconstructed.");
    this.objectId = objectId;
  }

  public UnreconstructableException(String message) {
    super(message);
  }

  public UnreconstructableException(String message, Throwable cause) {
    super(message, cause);
  }
}
