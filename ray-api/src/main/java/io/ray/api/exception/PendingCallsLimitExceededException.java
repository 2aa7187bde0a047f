package io.ray.api.exception;

import io.ray.api.id.ActorId;

/**
 * An actor call was refused because the actor already has as many pending calls as its creator
 * allowed ({@code setMaxPendingCalls}).
 */
public class PendingCallsLimitExceededException extends RayException {

  /** The actor whose limit was reached, when known. */
  public ActorId actorId;

  public PendingCallsLimitExceededException(String message) {
    super(message);
  }
}
