package io.ray.api.exception;

import io.ray.api.id.ActorId;

/** An actor died (or could not be created) before it finished a task it was given. */
public class RayActorException extends RayException {

  /** The actor that died, when known. */
  public ActorId actorId;

  public RayActorException() {
    super("The actor died unexpectedly before finishing this task.");
  }

  public RayActorException(ActorId actorId) {
    super("The actor " + actorId + " died unexpectedly before finishing this task.");
    this.actorId = actorId;
  }

  /** The actor {@code actorId}, which ran in process {@code pid} on {@code ipAddress}, died. */
  public RayActorException(int pid, String ipAddress, ActorId actorId, Throwable cause) {
    super(
        String.format(
            "(pid=%d, ip=%s) The actor %s died unexpectedly before finishing this task.",
            pid, ipAddress, actorId),
        cause);
    this.actorId = actorId;
  }

  /** An actor that ran in process {@code pid} on {@code ipAddress} died. */
  public RayActorException(int pid, String ipAddress, Throwable cause) {
    super(
        String.format(
            "(pid=%d, ip=%s) The actor died unexpectedly before finishing this task.",
            pid, ipAddress),
        cause);
  }
}
