package io.ray.api.options;

/** Whether an actor ends with the job that created it. */
public enum ActorLifetime {
  /** The actor outlives its creator's job until it is killed; it must be named. */
  DETACHED,
  /** The actor ends when its creator's job ends (the default). */
  NON_DETACHED;
}
