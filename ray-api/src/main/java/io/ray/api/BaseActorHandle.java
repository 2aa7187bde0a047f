package io.ray.api;

import io.ray.api.id.ActorId;

/** A handle to an actor of any language. Implemented by the runtime. */
public interface BaseActorHandle {

  /** The actor's identifier. */
  ActorId getId();

  /** Kills the actor at once and does not restart it, whatever its {@code maxRestarts}. */
  default void kill() {
    kill(true);
  }

  /**
   * Kills the actor at once. Calls it was running or had queued fail with {@link
   * io.ray.api.exception.RayActorException}.
   *
   * @param noRestart true to keep it dead; false to let it restart if its {@code maxRestarts}
   *     allows
   */
  default void kill(boolean noRestart) {
    Ray.internal().killActor(this, noRestart);
  }
}
